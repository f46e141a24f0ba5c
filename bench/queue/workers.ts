import type { StartReport } from "./handler.ts";

/** Names shared by the bench and its forked pg-boss / graphile-worker processes (worker-child.ts). */
export const PGBOSS_QUEUE = "bench_noop";
export const GRAPHILE_TASK = "noop";
export type WorkerKind = "pgboss" | "graphile";
export type WorkerMessage = { ready: true } | { failed: string } | StartReport;
