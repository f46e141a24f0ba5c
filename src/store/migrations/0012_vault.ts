import type { Kysely } from "kysely";

/**
 * State every replica shares (issue 17): the credential vault and the credential requests' numbers
 * move into the database when GIMO runs on PostgreSQL.
 *
 *   vault_secrets        one row per named secret: `sealed` is a sealed envelope (AES-256-GCM under
 *                        GIMO_MASTER_KEY, src/secrets/sealed.ts) of the name and the value together,
 *                        so a row moved to another name does not open
 *   credential_requests  REQ-<number> for each `${VAR}` the configuration names; a number, once
 *                        given, stays with its name (unique, so two replicas can never give one twice)
 *
 * The tables exist on SQLite too (one schema for both), where the embedded default keeps its vault
 * in the data dir (src/secrets/vault-file.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("vault_secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("sealed", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("credential_requests")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("number", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("credential_requests_number")
    .on("credential_requests")
    .column("number")
    .unique()
    .execute();
}
