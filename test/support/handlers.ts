import { appendFileSync } from "node:fs";
import type { RunHandler } from "../../src/runner/handler.ts";

/**
 * Run handlers for queue tests, loaded by `gimo runner --handler`. Behaviour comes from the
 * environment: GIMO_TEST_SLEEP_MS (work time), GIMO_TEST_EXEC_LOG (a file that gets one line
 * "<run id> <attempt> <pid>" per execution, appended atomically), GIMO_TEST_FAIL=1 (fail every run).
 * A handler honours its AbortSignal.
 */
export const handler: RunHandler = async (job, ctx) => {
  const log = process.env.GIMO_TEST_EXEC_LOG;
  if (log) appendFileSync(log, `${job.run.id} ${job.run.attempt} ${process.pid}\n`);
  ctx.log("info", `working on ${job.run.id} attempt ${job.run.attempt}`);
  await abortableSleep(Number(process.env.GIMO_TEST_SLEEP_MS ?? "0"), ctx.signal);
  if (ctx.signal.aborted)
    return { status: "failed", error: { code: "aborted", message: String(ctx.signal.reason) } };
  if (process.env.GIMO_TEST_FAIL === "1")
    return { status: "failed", error: { code: "test_failure", message: "told to fail" } };
  return { status: "succeeded", result: { pushed: false, commits: [] } };
};

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
