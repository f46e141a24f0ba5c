import type { Kysely } from "kysely";
import type { ProjectConfig } from "../contract/project.ts";
import type { ClaimedRun, Completion, Fence } from "../contract/runner.ts";
import { GimoError, notFound } from "../core/errors.ts";
import { runResultProblem } from "../core/run-result.ts";
import type { Database } from "../store/schema.ts";
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

/**
 * Refuses (400) a reported result that claims a link that is not http(s) or a branch that is not
 * the run's own, `<branch_prefix><task id>` of its project (core/run-result). Read before the end
 * is written; a result without a branch costs no query.
 */
export async function checkReportedResult(
  db: Kysely<Database>,
  runId: string,
  result: Record<string, unknown>,
): Promise<void> {
  let taskBranch: string | undefined;
  if (Object.hasOwn(result, "branch")) {
    const row = await db
      .selectFrom("runs")
      .innerJoin("projects", "projects.id", "runs.project_id")
      .select(["runs.task_id", "projects.config"])
      .where("runs.id", "=", runId)
      .executeTakeFirst();
    if (!row) throw notFound("run", runId);
    taskBranch = `${(JSON.parse(row.config) as ProjectConfig).branch_prefix ?? "task/"}${row.task_id}`;
  }
  const problem = runResultProblem(result, taskBranch);
  if (problem) throw new GimoError("validation_failed", problem.message, { field: problem.field });
}
