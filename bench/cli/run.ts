import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { GimoClient } from "../../src/client/client.ts";
import { createRepo } from "../support.ts";

/**
 * `npm run bench:cli`: how long `gimo` takes to start and answer, against `node -e 0` measured in
 * the same run (the floor no Node program goes under). Targets: `gimo --help` and `gimo runs
 * --json` under 300 ms. Also `GIMO_VALIDATE=1 gimo runs --json`, which builds the contract's
 * schemas to check the answer — the price of validation in a short-lived process.
 *
 * A `gimo serve` child on SQLite with 20 runs in it answers `runs`; the commands run one at a time,
 * interleaved, `--runs` times each (default 15), and the table shows the median and the 90th
 * percentile of wall time per process.
 */
const { values } = parseArgs({ options: { runs: { type: "string", short: "n" } } });
const rounds = Number(values.runs ?? "15");
const BIN = resolve(import.meta.dirname, "../../bin/gimo.js");

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "gimo-bench-cli-"));
  const token = `adm_${randomBytes(12).toString("hex")}`;
  const server = await startServer(root, token);
  try {
    const client = new GimoClient({ baseUrl: server.url, token });
    const draft = await client.createDraft({
      prompt: "bench",
      plan: { title: "bench", steps: [{ id: "s1", kind: "test", title: "tests" }] },
    });
    const approved = await client.approveDraft(draft.id);
    for (let i = 0; i < 20; i++)
      await client.createRun({ approved_id: approved.approved.id, allow_parallel: true });

    const env = { ...process.env, GIMO_URL: server.url, GIMO_TOKEN: token, NO_COLOR: "1" };
    const cases: [string, string[], NodeJS.ProcessEnv][] = [
      ["node -e 0", ["-e", "0"], env],
      ["gimo --help", [BIN, "--help"], env],
      ["gimo runs --json", [BIN, "runs", "--json"], env],
      ["GIMO_VALIDATE=1 gimo runs --json", [BIN, "runs", "--json"], { ...env, GIMO_VALIDATE: "1" }],
    ];
    const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (const [, args, e] of cases) time(args, e); // warm the file cache
    for (let r = 0; r < rounds; r++)
      for (const [name, args, e] of cases) times.get(name)?.push(time(args, e));

    const floor = median(times.get("node -e 0") ?? []);
    process.stdout.write(`${rounds} runs each, ${process.version}, one at a time\n\n`);
    process.stdout.write(
      `${"command".padEnd(36)}${"p50 ms".padStart(8)}${"p90 ms".padStart(8)}  over node -e 0  target\n`,
    );
    for (const [name] of cases) {
      const t = times.get(name) ?? [];
      const p50 = median(t);
      const over =
        name === "node -e 0" ? "(baseline)" : `+${Math.round(p50 - floor)} ms (${(p50 / floor).toFixed(2)}×)`;
      const target = name.startsWith("gimo") ? (p50 < 300 ? "< 300 ✓" : "< 300 ✗") : "";
      process.stdout.write(
        `${name.padEnd(36)}${p50.toFixed(0).padStart(8)}${quantile(t, 0.9).toFixed(0).padStart(8)}  ${over.padEnd(15)} ${target}\n`,
      );
    }
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
    rmSync(root, { recursive: true, force: true });
  }
}

function time(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 0) throw new Error(`${args.join(" ")} exited ${res.status}: ${res.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

function startServer(root: string, token: string): Promise<{ url: string; child: ChildProcess }> {
  const repo = createRepo(root);
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--repo", repo], {
    cwd: root,
    env: {
      ...process.env,
      GIMO_DATA_DIR: join(root, "data"),
      ORCH_ADMIN_TOKEN: token,
      GIMO_EMBEDDED_RUNNERS: "0",
      GIMO_RATE_LIMIT_RPS: "0",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((done, fail) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m?.[1]) done({ url: m[1], child });
    });
    child.once("exit", (code) => fail(new Error(`gimo serve exited ${code}: ${out}`)));
  });
}

await main();
