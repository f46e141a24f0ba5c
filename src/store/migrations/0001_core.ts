import { type Kysely, sql } from "kysely";

/** The core tables: projects, plans, tasks, drafts, approvals, runs, the event log, tokens. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("projects")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("repo_path", "text")
    .addColumn("repo_url", "text")
    .addColumn("config", "text", (c) => c.notNull())
    .addColumn("is_default", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("plans")
    .addColumn("project_id", "text", (c) => c.primaryKey().references("projects.id"))
    .addColumn("doc", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("updated_by", "text")
    .execute();

  await db.schema
    .createTable("tasks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
    .addColumn("prompt", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("tasks_status").on("tasks").columns(["status", "id"]).execute();
  await db.schema.createIndex("tasks_project").on("tasks").columns(["project_id", "id"]).execute();

  await db.schema
    .createTable("drafts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("task_id", "text", (c) => c.notNull().references("tasks.id"))
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
    .addColumn("rev", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("prompt", "text", (c) => c.notNull())
    .addColumn("plan", "text")
    .addColumn("error", "text")
    .addColumn("prompt_hash", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("drafts_task_rev", ["task_id", "rev"])
    .execute();
  await db.schema.createIndex("drafts_status").on("drafts").columns(["status", "id"]).execute();

  await db.schema
    .createTable("approved")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("draft_id", "text", (c) => c.notNull().unique().references("drafts.id"))
    .addColumn("task_id", "text", (c) => c.notNull().references("tasks.id"))
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
    .addColumn("prompt", "text", (c) => c.notNull())
    .addColumn("plan", "text", (c) => c.notNull())
    .addColumn("content_hash", "text", (c) => c.notNull())
    .addColumn("approved_by", "text", (c) => c.notNull())
    .addColumn("approved_at", "text", (c) => c.notNull())
    .addColumn("auto_run", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("approved_task").on("approved").columns(["task_id"]).execute();

  await db.schema
    .createTable("runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("approved_id", "text", (c) => c.notNull().references("approved.id"))
    .addColumn("task_id", "text", (c) => c.notNull().references("tasks.id"))
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("priority", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("attempt", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("run_after", "text", (c) => c.notNull())
    .addColumn("depends_on", "text", (c) => c.notNull())
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "text")
    .addColumn("steps", "text", (c) => c.notNull())
    .addColumn("result", "text")
    .addColumn("error", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .execute();
  await db.schema.createIndex("runs_status").on("runs").columns(["status", "id"]).execute();
  await db.schema
    .createIndex("runs_claimable")
    .on("runs")
    .columns(["status", "priority", "run_after", "id"])
    .execute();
  await db.schema.createIndex("runs_task").on("runs").columns(["task_id"]).execute();

  await db.schema
    .createTable("run_dependencies")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
    .addColumn("depends_on", "text", (c) => c.notNull().references("runs.id"))
    .addPrimaryKeyConstraint("run_dependencies_pk", ["run_id", "depends_on"])
    .execute();

  await db.schema
    .createTable("events")
    .addColumn("seq", "bigint", (c) => c.primaryKey())
    .addColumn("ts", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("events_subject").on("events").columns(["subject", "seq"]).execute();

  await db.schema
    .createTable("event_head")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();
  await sql`insert into event_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);

  await db.schema
    .createTable("tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("revoked_at", "text")
    .addColumn("last_used_at", "text")
    .execute();

  await db.schema
    .createTable("idempotency")
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("status", "integer", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_pk", ["actor", "key"])
    .execute();

  await db.schema
    .createTable("settings")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = `sha256:${"0".repeat(64)}`;
