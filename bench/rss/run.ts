/**
 * Idle memory of `gimo serve`: VmRSS a few seconds after start, with nothing to do.
 *
 *   npm run bench:rss -- [--settle 3] [--rounds 2]
 *
 * Each row starts a fresh server on SQLite (own data dir, a throwaway repository, embedded runners
 * as configured), waits for "listening", sends one GET /health, waits `--settle` seconds and reads
 * VmRSS from /proc/<pid>/status; then stops it. Rows, one process at a time:
 *   - `bin/gimo.js serve` with the Node flags of `npm start` — what it runs: the built JavaScript
 *     (dist/) when it is there and not older than src/, else the TypeScript sources;
 *   - `src/…/main.ts serve` — the sources through Node's type stripping, for comparison;
 *   - `bin/gimo.js serve`, no embedded runners — the figure bench:queue reports.
 * A bare `node -e` process waiting on a timer is the baseline. The median of `--rounds` is shown.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { rssKib } from "../queue/measure.ts";
import { stopProcess, track, waitForOutput } from "../queue/processes.ts";
import { createRepo, emitSummary, percentile } from "../support.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const { values } = parseArgs({
  options: { settle: { type: "string", default: "3" }, rounds: { type: "string", default: "2" } },
});
const settleMs = Number(values.settle) * 1000;
const rounds = Math.max(1, Number(values.rounds));

/** The Node flags `npm start` passes (package.json: `node <flags> bin/gimo.js serve`). */
const START_FLAGS = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((word) => word.startsWith("--"));

interface Target {
  label: string;
  args: string[];
  env?: Record<string, string>;
}

const targets: Target[] = [
  {
    label: "node (bare, idle)",
    args: ["-e", "setTimeout(() => {}, 1e9); console.log('listening on http://-')"],
  },
  {
    label: "gimo serve (npm start: bin/gimo.js)",
    args: [...START_FLAGS, join(ROOT, "bin/gimo.js"), "serve"],
  },
  {
    label: "gimo serve from the .ts sources",
    args: [join(ROOT, "src/operators/cli/main.ts"), "serve"],
  },
  {
    label: "gimo serve (bin/gimo.js), no embedded runners",
    args: [...START_FLAGS, join(ROOT, "bin/gimo.js"), "serve"],
    env: { GIMO_EMBEDDED_RUNNERS: "0" },
  },
];

async function measureOnce(target: Target, root: string, repo: string, n: number): Promise<number> {
  const dataDir = join(root, `data-${n}`);
  const serveArgs = target.args.includes("serve") ? ["--port", "0", "--repo", repo] : [];
  const child = track(
    spawn(process.execPath, [...target.args, ...serveArgs], {
      env: { ...process.env, GIMO_DATA_DIR: dataDir, LOG_LEVEL: "silent", DATABASE_URL: "", ...target.env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  try {
    const [, url] = await waitForOutput(child, /listening on (http:\/\/\S+)/, target.label);
    if (url && url !== "http://-") await fetch(`${url}/health`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, settleMs));
    return rssKib(child.pid as number) / 1024;
  } finally {
    await stopProcess(child, () => child.kill("SIGTERM"));
  }
}

const root = mkdtempSync(join(tmpdir(), "gimo-bench-rss-"));
try {
  const repo = createRepo(root);
  const medians: { label: string; mib: number }[] = [];
  let n = 0;
  for (const target of targets) {
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) samples.push(await measureOnce(target, root, repo, n++));
    samples.sort((a, b) => a - b);
    const mib = percentile(samples, 0.5);
    medians.push({ label: target.label, mib });
    process.stderr.write(`  ${target.label}: ${samples.map((s) => s.toFixed(1)).join(", ")} MiB\n`);
  }
  const w = Math.max(...medians.map((m) => m.label.length));
  process.stdout.write(
    `\nIdle RSS after start (+${settleMs / 1000} s), median of ${rounds}, node ${process.version}\n\n`,
  );
  for (const m of medians)
    process.stdout.write(`${m.label.padEnd(w)}  ${m.mib.toFixed(1).padStart(6)} MiB\n`);
  process.stdout.write("\n");
  emitSummary(
    "rss",
    medians.map((m) => ({ label: m.label, value: Number(m.mib.toFixed(1)), unit: "MiB" })),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
