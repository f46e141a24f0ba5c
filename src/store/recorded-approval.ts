import type { Kysely } from "kysely";
import type { ApprovedTable, Database } from "./schema.ts";

/**
 * The `content_hash` an approval's hash-chained `draft.approved` event recorded: the one that
 * counts, not the `approved` row's, which anyone with write access to the database could rewrite
 * together with its plan (src/app/approval-record.ts says the rest). A claim hands the runner this
 * hash (the SQLite queue store here; `gimo_chained_approval` on PostgreSQL).
 */
export const UNRECORDED = "unrecorded";

/** The `content_hash` the approval's `draft.approved` event recorded, or UNRECORDED. */
export async function recordedContentHash(
  db: Kysely<Database>,
  approved: Pick<ApprovedTable, "id" | "draft_id">,
): Promise<string> {
  const events = await db
    .selectFrom("events")
    .select("data")
    .where("subject", "=", approved.draft_id)
    .where("type", "=", "draft.approved")
    .orderBy("seq")
    .execute();
  for (const event of events) {
    const data = JSON.parse(event.data) as { approved_id?: unknown; content_hash?: unknown };
    if (data.approved_id === approved.id && typeof data.content_hash === "string") return data.content_hash;
  }
  return UNRECORDED;
}
