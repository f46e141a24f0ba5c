import { type Kysely, sql } from "kysely";
import { migrations } from "./migrations/index.ts";

/**
 * Migrations are forward-only: a GIMO binary applies the migrations it knows and never undoes one.
 * A database that a newer GIMO has already migrated carries migration names this binary does not
 * know; starting on it would run old code against a newer schema, so start refuses with a message
 * that says what to do. The check reads `gimo_migrations` (Kysely's record of applied migrations)
 * and is made before any migration runs.
 */
export class SchemaTooNewError extends Error {
  readonly code = "schema_too_new";
  readonly unknown: readonly string[];
  constructor(unknown: readonly string[]) {
    super(
      `this database was migrated by a newer GIMO (migration${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} ` +
        `unknown to this version, which knows up to ${latestMigration()}). Migrations are forward-only: ` +
        "upgrade GIMO to the version that wrote it, or restore a backup taken with this version.",
    );
    this.name = "SchemaTooNewError";
    this.unknown = unknown;
  }
}

export function latestMigration(): string {
  return Object.keys(migrations).sort().at(-1) as string;
}

/** Names of the migrations recorded as applied; empty for a new database. */
export async function appliedMigrations(db: Kysely<unknown>): Promise<string[]> {
  try {
    const { rows } = await sql<{ name: string }>`select name from gimo_migrations`.execute(db);
    return rows.map((r) => r.name);
  } catch (error) {
    if (/gimo_migrations/.test(String((error as Error).message))) return []; // no such table yet
    throw error;
  }
}

/** Throws SchemaTooNewError when the database records a migration this binary does not have. */
export async function assertSchemaKnown(db: Kysely<unknown>): Promise<void> {
  const unknown = (await appliedMigrations(db)).filter((name) => !(name in migrations)).sort();
  if (unknown.length > 0) throw new SchemaTooNewError(unknown);
}
