import type { Kysely } from "kysely";

/** Per-provider admission: which executor a running run holds a slot of. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("runs").addColumn("provider_key", "text").execute();
  await db.schema
    .createIndex("runs_provider_status")
    .on("runs")
    .columns(["provider_key", "status"])
    .execute();
}
