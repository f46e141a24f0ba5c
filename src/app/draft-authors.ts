import type { Kysely } from "kysely";
import type { Database, DraftsTable } from "../store/schema.ts";

/**
 * Who wrote a draft's content, for `require_distinct_approver` (SPEC §2): no identity that wrote
 * any of the content being approved may approve it.
 *
 * The authors of revision n of a task are every actor that wrote any revision 1..n of it:
 *   - created one (`draft.created`: `POST /ops/drafts`, `/ops/generate`, `/ops/tasks`, a proposal),
 *   - edited one (`draft.edited`: `PUT /ops/drafts/{id}`, the prompt or the plan),
 *   - asked for one to be revised or generated (`revise` creates revision n+1 under the requester's
 *     identity, and the planner's answer is recorded as `draft.generated` under it too).
 * Earlier revisions count because their content carries over: `revise` hands the old plan to the
 * planner, and a hand-written revision replaces a plan its authors shaped. So whoever contributed
 * to the task's plan at any point may not be the one to let it run.
 *
 * Derived from the hash-chained event log (the one history; see DESIGN), not from a column that
 * could drift from it: each of those events is written in the same transaction as the change.
 */
const AUTHORING_EVENTS = ["draft.created", "draft.edited", "draft.generated"];

export async function draftAuthors(db: Kysely<Database>, draft: DraftsTable): Promise<Set<string>> {
  const revisions = db
    .selectFrom("drafts")
    .select("id")
    .where("task_id", "=", draft.task_id)
    .where("rev", "<=", draft.rev);
  const rows = await db
    .selectFrom("events")
    .select("actor")
    .distinct()
    .where("subject", "in", revisions)
    .where("type", "in", AUTHORING_EVENTS)
    .execute();
  return new Set([draft.created_by, ...rows.map((r) => r.actor)]);
}
