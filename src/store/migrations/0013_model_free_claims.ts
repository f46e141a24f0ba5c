import { type Kysely, PostgresAdapter, sql } from "kysely";
import { queueFunctions } from "../sql/index.ts";

/**
 * Plans without a model. `runners.uses_executor`: a runner that runs agent steps with the server's
 * executor (the built-in executor says so when it registers). While a project has no executor (its
 * own or the server's), such a runner is not given a run whose plan has an `agent` step — it is
 * given command-and-test plans, which need no model. Until now the embedded runner claimed nothing
 * at all before an executor model was configured. Runners with their own handler are unaffected.
 *
 * PostgreSQL: the queue functions again, for `gimo_claim_walk`'s rule (SQLite keeps the same rule
 * in queue-sqlite.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("runners")
    .addColumn("uses_executor", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const statement of queueFunctions) await sql.raw(statement).execute(db);
}
