import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  CompiledQuery,
  type DatabaseConnection,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
  type SqliteStatement,
} from "kysely";

/**
 * Kysely over Node's built-in `node:sqlite` — no native addon to compile.
 *
 * Three differences from Kysely's stock SQLite dialect:
 *  - transactions start with `BEGIN IMMEDIATE`, so a transaction takes the write lock up front
 *    and two processes sharing a file (two servers at start, a migration race) wait on
 *    `busy_timeout` instead of failing with SQLITE_BUSY when a read lock would need upgrading;
 *  - migrations run inside that transaction (SQLite's DDL is transactional);
 *  - prepared statements are cached by SQL text.
 */
class NodeSqliteAdapter implements SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, NodeSqliteStatement>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  prepare(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = new NodeSqliteStatement(this.#db.prepare(sql));
      if (this.#statements.size > 500) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

class NodeSqliteStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #statement: StatementSync;

  constructor(statement: StatementSync) {
    this.#statement = statement;
    this.reader = statement.columns().length > 0;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#statement.all(...(parameters as never[]));
  }

  run(parameters: ReadonlyArray<unknown>) {
    const { changes, lastInsertRowid } = this.#statement.run(...(parameters as never[]));
    return { changes, lastInsertRowid };
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#statement.iterate(...(parameters as never[])) as IterableIterator<unknown>;
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/** SQLite does run DDL inside transactions; saying so makes Kysely migrate in one (IMMEDIATE) transaction. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class NodeSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];

  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }

  override createDriver() {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
}

const BUSY_TIMEOUT_MS = 10_000;
/** SQLITE_BUSY and SQLITE_LOCKED, node:sqlite's `errcode` when another connection holds the file. */
const BUSY_CODES = new Set([5, 6]);

/**
 * `journal_mode = wal`, retried while another process holds the file. Switching a fresh file to
 * WAL reads it and then needs its exclusive lock; when another connection is between the same two
 * steps, SQLite answers SQLITE_BUSY at once instead of calling the busy handler (waiting could
 * deadlock), so `timeout` does not cover it. Seen when several servers start on one new data dir.
 */
async function switchToWal(db: DatabaseSync): Promise<void> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.exec("pragma journal_mode = wal");
      return;
    } catch (error) {
      const busy = BUSY_CODES.has((error as { errcode?: number }).errcode ?? 0);
      if (!busy || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 45));
    }
  }
}

export function openSqlite(path: string, synchronous: "full" | "normal" = "full"): SqliteDialect {
  return new NodeSqliteDialect({
    database: async () => {
      const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
      await switchToWal(db);
      db.exec(synchronous === "normal" ? "pragma synchronous = normal" : "pragma synchronous = full");
      db.exec("pragma foreign_keys = on");
      return new NodeSqliteAdapter(db);
    },
  });
}
