import { type Kysely, PostgresAdapter, sql } from "kysely";
import { queueFunctions } from "../sql/index.ts";

/**
 * PostgreSQL: every queue function created again from its one source file under src/store/sql/.
 *
 * Until now each function's current body was whichever migration (0005–0008) last replaced it.
 * From here on the current bodies live in src/store/sql/, and this migration creates them all in
 * dependency order. It also adds `gimo_task_status`, the task-status derivation that
 * `gimo_complete_core` used to inline, so a test can hold it equal to core/task-status.ts.
 *
 * Why PL/pgSQL and not statements built in TypeScript (graphile-worker v0.16's way): a claim walks
 * the queue row by row and a batch of ends locks rows in an order, both in one round trip; built
 * as single statements, a claim that passes over a full project would cost a round trip per step
 * of the walk. The price is that a body change needs a migration: edit the file in src/store/sql/
 * and add a migration that runs `queueFunctions` (or the one that changed) again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const statement of queueFunctions) await sql.raw(statement).execute(db);
}
