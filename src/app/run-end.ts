import type { Kysely } from "kysely";
import { GimoError } from "../core/errors.ts";
import type { Database } from "../store/schema.ts";
import type { ClaimedRun } from "./queue.ts";
import type { Completion, Fence } from "./run-reports.ts";
import { loadRunRow } from "./runs.ts";

/**
 * The end of an attempt as both databases write it (RunReportService on SQLite, PostgresRunEnds on
 * PostgreSQL), and the answers for an end that changed nothing.
 */

/** How an attempt ends, redacted, with the wait before a retry. */
export interface AttemptEnd {
  status: Completion["status"];
  result: string | null;
  error: Completion["error"];
  wait: number;
}

/** What writing an end gives back: how it ended, when the attempt started, the run claimed next. */
export interface Ended {
  status: AttemptEnd["status"] | "queued";
  startedAt: string | null;
  next: ClaimedRun | undefined;
}

/**
 * The error of a run whose cancellation was requested when its runner reported a retryable failure:
 * it ends `cancelled`, never back in the queue. (`gimo_complete_many`, migration 0007, says the same.)
 */
export const CANCELLED_INSTEAD_OF_RETRY = {
  code: "cancelled",
  message: "cancelled on request; the runner had reported a retryable failure",
};

export function leaseLost(fence: Fence): GimoError {
  return new GimoError(
    "lease_lost",
    `run ${fence.runId} attempt ${fence.attempt} is no longer held by runner ${fence.runnerId}; stop working on it`,
  );
}

/**
 * The error for an end that changed nothing: 404 for an unknown run, else 409 `lease_lost`. It
 * never throws: in a batch it runs after the statement committed the other ends.
 */
export async function lostOrUnknown(db: Kysely<Database>, fence: Fence): Promise<GimoError> {
  try {
    await loadRunRow(db, fence.runId);
  } catch (error) {
    if (error instanceof GimoError) return error;
  }
  return leaseLost(fence);
}
