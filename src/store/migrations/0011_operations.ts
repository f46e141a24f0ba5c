import type { Kysely } from "kysely";

/**
 * Operations a team needs after the first week:
 *   projects.archived_at  an archived project takes no new tasks, chats or runs (null = open);
 *   runs_finished         finished runs by end time, for retention (`gimo purge`, OPS_RUN_TTL).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("projects").addColumn("archived_at", "text").execute();
  await db.schema.createIndex("runs_finished").on("runs").columns(["finished_at"]).execute();
}
