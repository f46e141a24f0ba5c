import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { SYSTEM_PATH, sandboxEnv } from "./env.ts";
import { type Mount, planMounts } from "./mounts.ts";
import { runProcess } from "./process.ts";
import type { Sandbox, SandboxDeps } from "./sandbox.ts";
import { checkSpec } from "./spec.ts";

/**
 * The bubblewrap sandbox.
 *
 *   first run ─▶ self-check (`bwrap … /bin/true`, once per sandbox) ─┬─ ok ─▶ every run goes through bwrap
 *                                                                    └─ failed ─▶ every run is refused
 *
 * Each run: `/` read-only, `/dev` and `/proc` fresh, the mounts of mounts.ts, all namespaces
 * unshared (so no network) plus `--share-net` only when the spec asks, `--die-with-parent`,
 * `--new-session` (no TIOCSTI into GIMO's terminal), every capability dropped when GIMO runs as root
 * (bubblewrap keeps them for a privileged caller otherwise), `--clearenv` and then exactly the
 * environment of env.ts. The bwrap process itself also starts with nothing but PATH.
 */
export interface BwrapOptions {
  network: boolean;
  env: Record<string, string>;
  cwd: string;
  dropCaps: boolean;
}

export function bwrapArgs(mounts: Mount[], opts: BwrapOptions, argv: string[]): string[] {
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  for (const m of mounts) {
    if (m.kind === "tmpfs") args.push("--tmpfs", m.path);
    else if (m.kind === "null") args.push("--ro-bind", "/dev/null", m.path);
    else if (m.kind === "ro") args.push("--ro-bind", m.path, m.path);
    else if (m.kind === "ro-try") args.push("--ro-bind-try", m.path, m.path);
    else args.push("--bind", m.path, m.path);
  }
  args.push("--unshare-all");
  if (opts.network) args.push("--share-net");
  args.push("--die-with-parent", "--new-session");
  if (opts.dropCaps) args.push("--cap-drop", "ALL");
  args.push("--clearenv");
  for (const [key, value] of Object.entries(opts.env)) args.push("--setenv", key, value);
  args.push("--chdir", opts.cwd, "--", ...argv);
  return args;
}

export function createBwrapSandbox(deps: SandboxDeps): Sandbox {
  const bwrap = deps.bwrapPath ?? findOnPath("bwrap") ?? "/usr/bin/bwrap";
  const dropCaps = process.getuid?.() === 0;
  let ready: Promise<void> | undefined;

  const sandbox: Sandbox = {
    kind: "bwrap",
    run: (command, spec, opts) => sandbox.runArgv(["/bin/sh", "-c", command], spec, opts),
    async runArgv(argv, spec, opts) {
      ready ??= selfCheck(bwrap, dropCaps);
      await ready;
      const { workspace, cwd } = await checkSpec(argv, spec);
      const mounts = await planMounts(spec, workspace, { home: deps.home, hide: deps.hide });
      const args = bwrapArgs(
        mounts,
        { network: spec.network, env: sandboxEnv(spec.env), cwd, dropCaps },
        argv,
      );
      return runProcess({ file: bwrap, args, env: { PATH: SYSTEM_PATH }, cwd: workspace }, spec, opts);
    },
  };
  return sandbox;
}

/** Runs a trivial command the way real runs do; a failure refuses every run of this sandbox. */
function selfCheck(bwrap: string, dropCaps: boolean): Promise<void> {
  // biome-ignore format: argv
  const args = [
    "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
    "--unshare-all", "--die-with-parent", "--new-session", ...(dropCaps ? ["--cap-drop", "ALL"] : []),
    "--clearenv", "--", "/bin/true",
  ];
  return new Promise((resolve, reject) => {
    execFile(bwrap, args, { timeout: 15_000, env: { PATH: SYSTEM_PATH } }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      const why = missing
        ? `${bwrap} was not found`
        : `${bwrap} failed its self-check: ${String(stderr).trim() || error.message}`;
      reject(
        new GimoError(
          "unavailable",
          `commands cannot run: the bubblewrap sandbox is unavailable (${why}). ` +
            "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; it needs unprivileged user " +
            "namespaces or root) or set GIMO_SANDBOX=off to run commands without a sandbox.",
          { sandbox: "bwrap", path: bwrap },
        ),
      );
    });
  });
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? SYSTEM_PATH).split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
