/**
 * The no-op run handler of the queue bench, loaded by `gimo runner --handler bench/queue/handler.ts`.
 * It does no work, logs nothing and succeeds at once, so a run costs only the queue: claim, then
 * complete. With BENCH_REPORT_STARTS=1 and an IPC channel to the bench, it reports when it started
 * each run (`performance.timeOrigin + performance.now()`: wall-clock milliseconds with sub-ms
 * resolution, comparable across processes on one machine). The pg-boss and graphile-worker workers
 * of the bench use `reportStart` too, so all three measure pickup the same way.
 */
import type { RunHandler } from "../../src/runner/handler.ts";

export interface StartReport {
  started: string;
  at: number;
}

export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

const reporting = process.env.BENCH_REPORT_STARTS === "1";

export function reportStart(id: string): void {
  if (reporting) process.send?.({ started: id, at: clockMs() } satisfies StartReport);
}

export const handler: RunHandler = async (job) => {
  reportStart(job.run.id);
  return { status: "succeeded", result: { pushed: false, commits: [] } };
};
