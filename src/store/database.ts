import { join } from "node:path";
import { Kysely, Migrator, PostgresDialect } from "kysely";
import pg from "pg";
import { prepareDataDir, prepareSqliteFile } from "./data-dir.ts";
import { migrations } from "./migrations/index.ts";
import type { Database } from "./schema.ts";
import { assertSchemaKnown } from "./schema-version.ts";
import { openSqlite } from "./sqlite-dialect.ts";

export type StorageKind = "sqlite" | "postgres";

export interface DatabaseHandle {
  kind: StorageKind;
  db: Kysely<Database>;
  /** Where it lives, without credentials: a file path or host/database. */
  location: string;
  /** PostgreSQL only: the connection string, for the LISTEN connection. */
  connectionString?: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…` selects PostgreSQL; otherwise SQLite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
  /** SQLite's `synchronous` pragma: `full` unless told (config.ts, GIMO_SQLITE_SYNCHRONOUS). */
  sqliteSynchronous?: "full" | "normal";
}

const INT8_OID = 20;

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === INT8_OID
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format as "text")) as never,
      },
    });
    // A client that loses its server (restart, pg_terminate_backend) emits 'error'. Idle ones
    // are dropped by the pool; a checked-out one would crash the process without a listener of
    // its own — its query fails instead (503) and the pool discards it when it is released.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      kind: "postgres",
      db,
      location: redactUrl(url),
      connectionString: url,
      close: () => db.destroy(),
    };
  }
  if (url && !/^sqlite:/.test(url)) {
    throw new Error(`DATABASE_URL must start with postgres:// or sqlite: (got ${redactUrl(url)})`);
  }
  const file = url ? url.replace(/^sqlite:(\/\/)?/, "") : join(options.dataDir, "gimo.sqlite");
  if (!url) prepareDataDir(options.dataDir);
  if (file !== ":memory:") prepareSqliteFile(file);
  const db = new Kysely<Database>({ dialect: openSqlite(file, options.sqliteSynchronous ?? "full") });
  return { kind: "sqlite", db, location: file, close: () => db.destroy() };
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}

/**
 * Applies pending migrations. Safe when several processes start at once: on PostgreSQL Kysely
 * takes an advisory lock, on SQLite the migration transaction begins IMMEDIATE (see the dialect).
 * Forward-only: a database a newer GIMO migrated is refused first (schema-version.ts).
 */
export async function migrate(db: Kysely<Database>): Promise<void> {
  await assertSchemaKnown(db as Kysely<unknown>);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: "gimo_migrations",
    migrationLockTableName: "gimo_migrations_lock",
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(`migration ${failed?.migrationName ?? "?"} failed: ${String(error)}`, { cause: error });
  }
}
