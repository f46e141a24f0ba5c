/** The queue bench's figures: the shapes it measures and the table it prints, as ratios. */
import { availableParallelism, loadavg } from "node:os";
import { emitSummary, type SummaryRow } from "../support.ts";

/** GIMO with its runner embedded in `gimo serve` (the default), or a `gimo runner` over HTTP. */
export const GIMO_SYSTEMS = [
  "gimo-sqlite",
  "gimo-postgres",
  "gimo-sqlite/http",
  "gimo-postgres/http",
] as const;
export type GimoSystem = (typeof GIMO_SYSTEMS)[number];
export type System = GimoSystem | "pg-boss" | "graphile-worker";

export interface BenchOptions {
  runs: number;
  samples: number;
  workers: number;
  /** Only these systems (`--only gimo-sqlite,graphile-worker`); all when undefined. */
  only?: string[] | undefined;
}

export interface Throughput {
  concurrency: number;
  jobs: number;
  seconds: number;
  perSecond: number;
  problems: string[];
}

export interface Pickup {
  samples: number[];
  p50: number;
  p90: number;
  p99: number;
  max: number;
  problems: string[];
}

export interface Row {
  system: System;
  throughput: Throughput[];
  pickup?: Pickup;
  memory: { label: string; kib: number }[];
}

export function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? `${fmt(a / b, 2)}×`
    : "n/a";
}

export function report(rows: Row[], opts: BenchOptions, loadAtStart: number): boolean {
  const out: string[] = [];
  const bySystem = (s: System) => rows.find((r) => r.system === s);
  const tput = (r: Row | undefined, c: number) => r?.throughput.find((t) => t.concurrency === c)?.perSecond;
  const w = 20;
  out.push("");
  out.push(
    `GIMO queue bench — ${opts.runs} pre-queued no-op runs per throughput phase, ${opts.samples} pickup samples, node ${process.version}, ${availableParallelism()} CPUs`,
  );
  out.push(
    `load average (1 min): ${fmt(loadAtStart, 2)} at the start, ${fmt(loadavg()[0] ?? Number.NaN, 2)} at the end — other work on the machine skews every figure`,
  );
  out.push("");
  out.push("throughput: runs (jobs) claimed and completed per second; one worker with C slots");
  out.push(
    "(gimo-*: runner embedded in gimo serve, the default; gimo-*/http: a gimo runner process over HTTP)",
  );
  out.push(`${"system".padEnd(w)}  ${"C=1".padStart(8)}  ${`C=${opts.workers}`.padStart(8)}`);
  for (const r of rows) {
    const flag = r.throughput.flatMap((t) => t.problems);
    out.push(
      `${r.system.padEnd(w)}  ${fmt(tput(r, 1) ?? Number.NaN, 0).padStart(8)}  ${fmt(tput(r, opts.workers) ?? Number.NaN, 0).padStart(8)}${flag.length ? `  !! ${flag.join("; ")}` : ""}`,
    );
  }
  out.push("");
  out.push("pickup latency, ms: enqueue call returned → handler started, idle worker (concurrency 1)");
  out.push(
    `${"system".padEnd(w)}  ${"p50".padStart(7)}  ${"p90".padStart(7)}  ${"p99".padStart(7)}  ${"max".padStart(7)}  ${"n".padStart(4)}`,
  );
  for (const r of rows) {
    const p = r.pickup;
    if (!p) continue;
    out.push(
      `${r.system.padEnd(w)}  ${fmt(p.p50, 2).padStart(7)}  ${fmt(p.p90, 2).padStart(7)}  ${fmt(p.p99, 2).padStart(7)}  ${fmt(p.max, 2).padStart(7)}  ${String(p.samples.length).padStart(4)}${p.problems.length ? `  !! ${p.problems.join("; ")}` : ""}`,
    );
  }
  out.push("");
  out.push("memory (VmRSS)");
  for (const r of rows)
    for (const m of r.memory) out.push(`  ${m.label.padEnd(50)} ${fmt(m.kib / 1024, 1).padStart(7)} MiB`);

  const others = (["pg-boss", "graphile-worker"] as const).filter((s) => bySystem(s));
  const gimos = GIMO_SYSTEMS.filter((s) => bySystem(s));
  if (others.length > 0) {
    out.push("");
    out.push("GIMO against the others (throughput: higher is better; pickup: lower is better)");
    for (const g of gimos) {
      const gr = bySystem(g);
      for (const o of others) {
        const or = bySystem(o);
        out.push(
          `  ${g.padEnd(18)} throughput ${ratio(tput(gr, 1), tput(or, 1))} ${o} (C=1), ${ratio(tput(gr, opts.workers), tput(or, opts.workers))} ${o} (C=${opts.workers}); pickup p50 ${ratio(gr?.pickup?.p50, or?.pickup?.p50)} ${o}, p99 ${ratio(gr?.pickup?.p99, or?.pickup?.p99)} ${o}`,
        );
      }
    }
  }

  out.push("");
  out.push("targets");
  out.push(
    "(like for like with pg-boss, whose worker is a library talking to the database: the embedded rows, gimo-sqlite and gimo-postgres; the /http rows add a remote runner's HTTP round trip per run)",
  );
  const mark = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "met" : "NOT met");
  for (const g of gimos) {
    const p50 = bySystem(g)?.pickup?.p50;
    out.push(
      `  ${g.padEnd(18)} pickup p50 < 20 ms: ${mark(p50 === undefined ? undefined : p50 < 20)} (${fmt(p50 ?? Number.NaN, 2)} ms)`,
    );
  }
  const boss = bySystem("pg-boss");
  for (const g of gimos) {
    for (const c of [1, opts.workers]) {
      const mine = tput(bySystem(g), c);
      const theirs = tput(boss, c);
      const ok = mine === undefined || theirs === undefined ? undefined : mine >= theirs;
      out.push(
        `  ${g.padEnd(18)} throughput ≥ pg-boss at C=${c}: ${mark(ok)} (${fmt(mine ?? Number.NaN, 0)} vs ${fmt(theirs ?? Number.NaN, 0)}/s)`,
      );
    }
  }
  out.push("");
  process.stdout.write(`${out.join("\n")}\n`);
  emitSummary("queue", summaryRows(rows, opts.workers));
  return rows.some(
    (r) => r.throughput.some((t) => t.problems.length > 0) || (r.pickup?.problems.length ?? 0) > 0,
  );
}

/** For `npm run bench`: each GIMO shape's throughput as a ratio of each other queue's, per C. */
function summaryRows(rows: Row[], workers: number): SummaryRow[] {
  const tput = (r: Row | undefined, c: number) => r?.throughput.find((t) => t.concurrency === c)?.perSecond;
  const out: SummaryRow[] = [];
  for (const other of ["graphile-worker", "pg-boss"] as const) {
    const theirs = rows.find((r) => r.system === other);
    if (!theirs) continue;
    for (const g of GIMO_SYSTEMS) {
      const mine = rows.find((r) => r.system === g);
      for (const c of [1, workers]) {
        const [a, b] = [tput(mine, c), tput(theirs, c)];
        if (a === undefined || b === undefined || !(b > 0)) continue;
        out.push({
          label: `${g} runs/s ÷ ${other}, C=${c}`,
          value: a / b,
          unit: "×",
          detail: `${fmt(a, 0)} vs ${fmt(b, 0)} runs/s`,
        });
      }
    }
  }
  return out;
}
