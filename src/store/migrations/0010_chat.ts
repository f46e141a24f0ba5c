import type { Kysely } from "kysely";

/**
 * Chat and Telegram (SPEC §7.4).
 *
 *   chats           a conversation on a project (title, archived)
 *   chat_messages   its messages; `origin` makes a message posted by a background follower
 *                   (run progress) unique per chat, so replicas and restarts never post it twice
 *   chat_tasks      which chat a task was proposed in: where its runs report
 *   telegram_chats  a Telegram chat → the GIMO chat it talks to, and a pending "revise" prompt
 *   leases          named leases (one Telegram poller among replicas sharing PostgreSQL)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("chats")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("archived", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("chats_project").on("chats").columns(["project_id", "id"]).execute();

  await db.schema
    .createTable("chat_messages")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("chat_id", "text", (c) => c.notNull().references("chats.id"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("data", "text")
    .addColumn("author", "text", (c) => c.notNull())
    .addColumn("origin", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("chat_messages_chat").on("chat_messages").columns(["chat_id", "id"]).execute();
  await db.schema
    .createIndex("chat_messages_origin")
    .on("chat_messages")
    .columns(["chat_id", "origin"])
    .unique()
    .execute();

  await db.schema
    .createTable("chat_tasks")
    .addColumn("task_id", "text", (c) => c.primaryKey().references("tasks.id"))
    .addColumn("chat_id", "text", (c) => c.notNull().references("chats.id"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("chat_tasks_chat").on("chat_tasks").columns(["chat_id", "task_id"]).execute();

  await db.schema
    .createTable("telegram_chats")
    .addColumn("telegram_chat_id", "text", (c) => c.primaryKey())
    .addColumn("chat_id", "text", (c) => c.notNull().references("chats.id"))
    .addColumn("awaiting_revision", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("telegram_chats_chat").on("telegram_chats").column("chat_id").execute();

  await db.schema
    .createTable("leases")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
}
