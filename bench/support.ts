/** What the benchmarks share: a PostgreSQL to make throwaway databases on, a throwaway repository. */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

export const PG_ADMIN_URL = process.env.GIMO_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

export function dbUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A throwaway git repository with one commit on `main`: GIMO's default project. */
export function createRepo(root: string): string {
  const path = join(root, "repo");
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "Bench",
    GIT_AUTHOR_EMAIL: "bench@example.com",
    GIT_COMMITTER_NAME: "Bench",
    GIT_COMMITTER_EMAIL: "bench@example.com",
  };
  execFileSync("git", ["init", "-q", "-b", "main", path], { env });
  writeFileSync(join(path, "README.md"), "# bench\n");
  execFileSync("git", ["-C", path, "add", "."], { env });
  execFileSync("git", ["-C", path, "commit", "-q", "-m", "initial commit"], { env });
  return path;
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** One figure of a bench's result, as `npm run bench` (bench/run-all.ts) puts it in bench/README.md. */
export interface SummaryRow {
  /** What was measured, e.g. "GET /ops/runs/{id} sqlite". */
  label: string;
  /** The figure to track: a ratio against the bench's own baseline from the same run, or a size. */
  value: number;
  /** "×" for ratios; "MiB", "ms", "req/s" otherwise. */
  unit: string;
  /** The raw figures behind it, in words ("3,825 req/s vs 35,012"). */
  detail?: string;
}

export const SUMMARY_PREFIX = "@@bench-summary ";

/** The machine-readable summary line a bench ends with; bench/run-all.ts collects it from stdout. */
export function emitSummary(bench: string, rows: SummaryRow[]): void {
  process.stdout.write(`${SUMMARY_PREFIX}${JSON.stringify({ bench, rows })}\n`);
}
