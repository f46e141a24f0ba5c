/**
 * Sandbox start-up overhead: what running a command under bubblewrap costs per command, against
 * running the same command without it, and against the sandbox GIMO had before its hardening.
 *
 *   npm run bench:sandbox -- [--n 200] [--warmup 10]
 *
 * For each command (`true`, `echo hi`, `git status` in a small repository of 200 committed files),
 * five ways, each N times in sequence after a warm-up, all through `/bin/sh -c` with the same
 * clean environment:
 *  - `spawn`: node's child_process, nothing of GIMO: the floor;
 *  - `off`:   GIMO's sandbox port with GIMO_SANDBOX=off: process group, timeout, output cap;
 *  - `old`:   bubblewrap as GIMO ran it before the hardening: `/` bound read-only, the workspace
 *             read-write at its own path, every namespace, capabilities dropped (rebuilt here);
 *  - `bwrap`: the hardened sandbox: the filesystem built from GIMO's records, an unprivileged uid
 *             in a user namespace (setpriv + unshare when GIMO is root), prlimit, and a cgroup per
 *             command where the host allows one;
 *  - `net`:   the hardened sandbox with `network: true`: the egress proxy and the bridge (a Node
 *             process) in front of the command.
 * A sample is the wall time from the call to the result in this process. The ratios to read are
 * bwrap/off (what the sandbox adds), bwrap/old (what the hardening adds) and bwrap/spawn.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { SYSTEM_PATH, sandboxEnv } from "../../src/runner/sandbox/env.ts";
import { handOver, sandboxUser } from "../../src/runner/sandbox/identity.ts";
import { runProcess } from "../../src/runner/sandbox/process.ts";
import { createSandbox, type SandboxSpec } from "../../src/runner/sandbox/sandbox.ts";

type Mode = "spawn" | "off" | "old" | "bwrap" | "net";
interface Stats {
  mean: number;
  p50: number;
  p99: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p99: at(0.99) };
}

function rawSpawn(command: string, cwd: string, env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      cwd,
      env: sandboxEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.resume();
    child.stderr.resume();
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
}

/** The pre-hardening sandbox's bubblewrap invocation, rebuilt for comparison. */
function oldBwrap(command: string, spec: SandboxSpec): Promise<number | null> {
  // biome-ignore format: argv
  const args = [
    "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
    "--bind", spec.workspace, spec.workspace, "--unshare-all", "--die-with-parent", "--new-session",
    ...(process.getuid?.() === 0 ? ["--cap-drop", "ALL"] : []), "--clearenv",
    ...Object.entries(sandboxEnv(spec.env)).flatMap(([k, v]) => ["--setenv", k, v]),
    "--chdir", spec.workspace, "--", "/bin/sh", "-c", command,
  ];
  return runProcess({ file: "bwrap", args, env: { PATH: SYSTEM_PATH }, cwd: spec.workspace }, spec).then(
    (r) => r.exitCode,
  );
}

function makeRepo(root: string): string {
  const repo = join(root, "repo");
  mkdirSync(join(repo, "src"), { recursive: true });
  for (let i = 0; i < 200; i++) writeFileSync(join(repo, "src", `f${i}.ts`), `export const v${i} = ${i};\n`);
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "init");
  return repo;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: "string", short: "n", default: "200" },
      warmup: { type: "string", short: "w", default: "10" },
    },
  });
  const n = Number(values.n);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(warmup) || warmup < 0)
    throw new Error("--n and --warmup must be whole numbers");

  const root = mkdtempSync(join(existsSync("/var/tmp") ? "/var/tmp" : tmpdir(), "gimo-bench-sandbox-"));
  try {
    const repo = makeRepo(root);
    const user = sandboxUser();
    if (user) await handOver(repo, user);
    const spec: SandboxSpec = {
      workspace: repo,
      network: false,
      timeoutMs: 30_000,
      outputCapBytes: 1_000_000,
    };
    const off = createSandbox("off", { warn: () => {} });
    const bwrap = createSandbox("on");
    const probe = await bwrap.run("true", spec).catch((e: Error) => e);
    const modes: Mode[] = probe instanceof Error ? ["spawn", "off"] : ["spawn", "off", "old", "bwrap", "net"];
    if (probe instanceof Error)
      process.stdout.write(`!! bubblewrap unusable, its rows are skipped: ${probe.message}\n`);

    // The repository is the sandbox user's (GIMO runs as root here): git outside the sandbox is
    // told it is safe, as GIMO's own git is not needed for the comparison.
    const trust = { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "safe.directory", GIT_CONFIG_VALUE_0: "*" };
    const direct = { ...spec, env: trust };
    const run = async (mode: Mode, command: string): Promise<number | null> => {
      if (mode === "spawn") return rawSpawn(command, repo, trust);
      if (mode === "old") return oldBwrap(command, direct);
      if (mode === "net") return (await bwrap.run(command, { ...spec, network: true })).exitCode;
      return (await (mode === "off" ? off.run(command, direct) : bwrap.run(command, spec))).exitCode;
    };

    process.stdout.write(
      `sandbox start-up: N=${n} per row after ${warmup} warm-up runs; ${availableParallelism()} CPUs, load ${loadavg()[0]?.toFixed(2)}\n\n`,
    );
    process.stdout.write(
      `${"command".padEnd(12)}${"mode".padEnd(7)}${"mean ms".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}\n`,
    );
    let failed = false;
    const summary: string[] = [];
    for (const command of ["true", "echo hi", "git status"]) {
      const results = new Map<Mode, Stats>();
      for (const mode of modes) {
        for (let i = 0; i < warmup; i++) await run(mode, command);
        const samples: number[] = [];
        let bad = 0;
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const code = await run(mode, command);
          samples.push(performance.now() - t0);
          if (code !== 0) bad++;
        }
        const s = stats(samples);
        results.set(mode, s);
        if (bad) failed = true;
        process.stdout.write(
          `${command.padEnd(12)}${mode.padEnd(7)}${s.mean.toFixed(2).padStart(9)}${s.p50.toFixed(2).padStart(9)}${s.p99.toFixed(2).padStart(9)}${bad ? `  !! ${bad} non-zero exits` : ""}\n`,
        );
      }
      const b = results.get("bwrap");
      const o = results.get("off");
      const r = results.get("spawn");
      const old = results.get("old");
      const net = results.get("net");
      if (b && o && r && old && net) {
        summary.push(
          `  ${command.padEnd(11)} bwrap/off mean ${(b.mean / o.mean).toFixed(2)}× (+${(b.mean - o.mean).toFixed(2)} ms);` +
            ` old/off ${(old.mean / o.mean).toFixed(2)}× (+${(old.mean - o.mean).toFixed(2)} ms);` +
            ` bwrap/old ${(b.mean / old.mean).toFixed(2)}×; bwrap/spawn ${(b.mean / r.mean).toFixed(2)}×;` +
            ` net/off ${(net.mean / o.mean).toFixed(2)}× (+${(net.mean - o.mean).toFixed(2)} ms)`,
        );
      }
    }
    if (summary.length) process.stdout.write(`\nratios (sandboxed / direct)\n${summary.join("\n")}\n`);
    process.stdout.write(`\nload at the end ${loadavg()[0]?.toFixed(2)}\n`);
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
