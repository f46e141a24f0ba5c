import type { Kysely } from "kysely";

/** The run queue's side tables: runners, run log lines, and per-project admission. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("runners")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull())
    .addColumn("capacity", "integer", (c) => c.notNull())
    .addColumn("registered_at", "text", (c) => c.notNull())
    .addColumn("last_heartbeat_at", "text", (c) => c.notNull())
    .addColumn("stopped_at", "text")
    .execute();

  await db.schema
    .createTable("run_logs")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("ts", "text", (c) => c.notNull())
    .addColumn("level", "text", (c) => c.notNull())
    .addColumn("msg", "text", (c) => c.notNull())
    .addColumn("step_id", "text")
    .addColumn("correlation_id", "text")
    .addPrimaryKeyConstraint("run_logs_pk", ["run_id", "seq"])
    .execute();

  await db.schema
    .alterTable("projects")
    .addColumn("max_concurrent_runs", "integer", (c) => c.notNull().defaultTo(2))
    .execute();

  await db.schema.createIndex("runs_lease").on("runs").columns(["status", "lease_expires_at"]).execute();
  await db.schema.createIndex("runs_project_status").on("runs").columns(["project_id", "status"]).execute();
}
