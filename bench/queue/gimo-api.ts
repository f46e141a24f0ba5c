/** GIMO seen through its API by the queue bench: making approved plans, queueing runs, counting them. */
import { join } from "node:path";
import pg from "pg";
import type { GimoServer, Tokens } from "./processes.ts";

/** Every API call of the bench gives up after this long (a wedged server fails the bench fast). */
const CALL_TIMEOUT_MS = 30_000;

export class Api {
  readonly url: string;
  readonly #tokens: Tokens;

  constructor(server: GimoServer) {
    this.url = server.url;
    this.#tokens = server.tokens;
  }

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { as?: keyof Tokens; expect?: number } = {},
  ): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#tokens[opts.as ?? "operator"]}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    }).catch((error: unknown) => {
      throw new Error(`${method} ${path}: no answer from the GIMO server (${String(error)})`, {
        cause: error,
      });
    });
    const text = await res.text();
    const expect = opts.expect ?? (method === "POST" ? 201 : 200);
    if (res.status !== expect)
      throw new Error(`${method} ${path} → ${res.status} (expected ${expect}): ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export const plan = {
  title: "No-op",
  summary: "A run that does nothing: the queue bench.",
  steps: [{ id: "s1", kind: "agent", title: "Nothing", instructions: "Do nothing" }],
  acceptance: ["Nothing changed"],
  risk: "low",
};

/** Approved plans to queue runs from (draft → approve, no auto-run). */
export async function approvedPlans(api: Api, count: number): Promise<string[]> {
  return parallel(count, 4, async () => {
    const draft = await api.call<{ id: string }>("POST", "/ops/drafts", { prompt: "Do nothing", plan });
    const res = await api.call<{ approved: { id: string } }>("POST", `/ops/drafts/${draft.id}/approve`, {
      auto_run: false,
    });
    return res.approved.id;
  });
}

/** Queues `count` runs with `POST /ops/runs`, round-robin over `approved`; returns their ids. */
export async function queueRuns(
  api: Api,
  approved: string[],
  count: number,
  concurrency = 8,
): Promise<string[]> {
  return parallel(count, concurrency, async (i) => {
    const run = await api.call<{ id: string }>("POST", "/ops/runs", {
      approved_id: approved[i % approved.length],
      allow_parallel: true,
    });
    return run.id;
  });
}

export async function parallel<T>(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await work(i);
      }
    }),
  );
  return out;
}

export type RunCounts = Record<"queued" | "running" | "succeeded" | "failed" | "cancelled", number>;

export async function gimoCounts(api: Api): Promise<RunCounts> {
  return (await api.call<{ runs: RunCounts }>("GET", "/ops/metrics")).runs;
}

/**
 * Finished runs, counted straight in GIMO's database during a throughput phase: one indexed count
 * per poll, like the pg-boss and graphile-worker phases, instead of `GET /ops/metrics` (five
 * queries, some scanning every run), which would load the server under test.
 */
export interface FinishedCounter {
  count(): Promise<{ succeeded: number; failed: number }>;
  close(): Promise<void>;
}

export const FINISHED_SQL =
  "select status, count(*) as n from runs where status in ('succeeded', 'failed') group by status";

export function tally(rows: { status: string; n: number | string }[]) {
  const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return { succeeded: n("succeeded"), failed: n("failed") };
}

export async function finishedCounter(
  dataDir: string,
  databaseUrl: string | undefined,
): Promise<FinishedCounter> {
  if (databaseUrl) {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    return {
      count: async () => tally((await db.query<{ status: string; n: string }>(FINISHED_SQL)).rows),
      close: () => db.end(),
    };
  }
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(join(dataDir, "gimo.sqlite"), { readOnly: true, timeout: 5_000 });
  const statement = db.prepare(FINISHED_SQL);
  return {
    count: async () => tally(statement.all() as { status: string; n: number }[]),
    close: async () => db.close(),
  };
}
