import { type Kysely, PostgresAdapter, sql } from "kysely";
import { queueFunctions } from "../sql/index.ts";

/**
 * PostgreSQL: the queue functions again (src/store/sql/). The end of an attempt read and locked its
 * run twice: `gimo_complete_many` read `cancel_requested` under `FOR UPDATE` to turn a retryable
 * failure of a run whose cancellation was requested into `cancelled`, then `gimo_complete_core`
 * read the same row under the same fence and lock. The core now makes that decision on the row it
 * has read. Nothing changes on SQLite.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const statement of queueFunctions) await sql.raw(statement).execute(db);
}
