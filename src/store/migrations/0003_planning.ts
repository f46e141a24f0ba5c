import type { Kysely } from "kysely";

/** Planning: the tokens each draft's generation used. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("drafts").addColumn("usage", "text").execute();
}
