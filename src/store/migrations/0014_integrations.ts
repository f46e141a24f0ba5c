import type { Kysely } from "kysely";

/**
 * Integrations (SPEC §7.6): external OpenAPI services and MCP servers.
 *
 *   integrations  one per registered service: its settings (`config` JSON, literal secrets
 *                 sealed), the operations discovery found (`operations` JSON), the admin's
 *                 allow-list (`allowlist` JSON: `[{operation, projects?}]`), and whether the last
 *                 discovery reached it (`status`, `discovery_error`, `discovered_at`)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("integrations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("config", "text", (c) => c.notNull())
    .addColumn("operations", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("allowlist", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("discovery_error", "text")
    .addColumn("discovered_at", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}
