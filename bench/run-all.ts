/**
 * `npm run bench`: runs the benches, collects the summary line each ends with (`@@bench-summary`,
 * bench/support.ts emitSummary) and rewrites the results table of bench/README.md between its
 * `bench:results` markers, with the machine's description and the date — so no figure in it is
 * ever copied by hand.
 *
 *   npm run bench                 # the quick set: api, rss, sse, queue, with short durations
 *   npm run bench -- --only api   # one of them
 *
 * Each bench runs as its own `npm run bench:<name>` with the quick arguments below; its output
 * goes to this terminal as it runs. A bench that fails or prints no summary line gets a row saying
 * so, and the command exits 1. Benches without a summary line yet (sandbox, workspace, mcp, cli,
 * web, telegram, agent-cli, integrations, fleet — the last needs root and network namespaces) are
 * run by their own scripts; their figures are in NOTES.md.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SUMMARY_PREFIX, type SummaryRow } from "./support.ts";

const QUICK: Record<string, string[]> = {
  api: ["--duration", "4", "--warmup", "1"],
  rss: ["--settle", "3", "--rounds", "2"],
  sse: ["--runs", "20"],
  queue: ["--runs", "1000", "--samples", "100"],
};

const { values } = parseArgs({ options: { only: { type: "string", multiple: true } } });
const names = values.only?.length ? values.only : Object.keys(QUICK);
for (const name of names)
  if (!QUICK[name]) throw new Error(`unknown bench ${name} (${Object.keys(QUICK).join(", ")})`);

interface Outcome {
  bench: string;
  rows: SummaryRow[];
  problem?: string;
}

function runBench(name: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", `bench:${name}`, "--", ...(QUICK[name] ?? [])], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(SUMMARY_PREFIX));
      const rows = line ? (JSON.parse(line.slice(SUMMARY_PREFIX.length)) as Outcome).rows : [];
      const problem = code !== 0 ? `exited with ${code}` : line ? undefined : "printed no summary line";
      resolve({ bench: name, rows, ...(problem ? { problem } : {}) });
    });
  });
}

const started = new Date();
const outcomes: Outcome[] = [];
for (const name of names) outcomes.push(await runBench(name));

const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${process.platform} ${process.arch}, node ${process.version}, load average ${loadavg()[0]?.toFixed(1)} at the start`;
const fmt = (r: SummaryRow) =>
  r.unit === "×"
    ? `${r.value.toFixed(2)}×`
    : `${r.value.toLocaleString("en-US", { maximumFractionDigits: 1 })} ${r.unit}`;
const table = [
  `Last \`npm run bench\`${values.only?.length ? ` (${names.join(", ")}; the other rows are from earlier runs)` : ""}: ${started.toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine}.`,
  "",
  "| bench | figure | value | detail |",
  "| ----- | ------ | ----- | ------ |",
  ...outcomes.flatMap((o) =>
    o.problem
      ? [`| ${o.bench} | — | **${o.problem}** | |`]
      : o.rows.map((r) => `| ${o.bench} | ${r.label} | ${fmt(r)} | ${r.detail ?? ""} |`),
  ),
].join("\n");

const readme = join(import.meta.dirname, "README.md");
const text = readFileSync(readme, "utf8");
const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";
const from = text.indexOf(START);
const to = text.indexOf(END);
if (from < 0 || to < from) throw new Error(`bench/README.md has no ${START} … ${END} section`);
// Only the rows of the benches run now are replaced when --only is given: the rest are kept.
let rows = table;
if (values.only?.length) {
  const kept = text
    .slice(from + START.length, to)
    .split("\n")
    .filter(
      (l) =>
        l.startsWith("| ") &&
        !l.startsWith("| bench") &&
        !l.startsWith("| -") &&
        !names.some((n) => l.startsWith(`| ${n} |`)),
    );
  const [head, , ...rest] = table.split("\n");
  rows = [head, "", ...rest.slice(0, 2), ...kept, ...rest.slice(2)].join("\n");
}
writeFileSync(readme, `${text.slice(0, from + START.length)}\n${rows}\n${text.slice(to)}`);
process.stdout.write(`\nbench/README.md results table rewritten (${outcomes.length} benches)\n`);
if (outcomes.some((o) => o.problem)) process.exitCode = 1;
