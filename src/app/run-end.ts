import type { Kysely } from "kysely";
import type { ProjectConfig } from "../contract/project.ts";
import { GimoError, notFound } from "../core/errors.ts";
import { runResultProblem } from "../core/run-result.ts";
import type { Database } from "../store/schema.ts";

/** What the server checks in a runner's report before it writes the end (the end itself: the queue store). */

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
