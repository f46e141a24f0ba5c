import { type Kysely, PostgresAdapter, sql } from "kysely";
import { queueFunctions } from "../sql/index.ts";

/**
 * PostgreSQL: the queue functions again (src/store/sql/), for two changes measured on a run's
 * path (`bench:queue`, `pg_stat_user_functions` on a private server):
 *
 * - Every SQL-language function is now PL/pgSQL. PostgreSQL before 18 parses and plans a
 *   SQL-language function that it cannot inline again at each call: `gimo_chained_approval` cost
 *   0.26 ms a call, `gimo_task_status` 0.16 ms, `gimo_project_running` 0.075 ms twice per claim,
 *   for statements that run in 0.01–0.03 ms. PL/pgSQL keeps each statement's plan for the session.
 * - The claim's admission lock on a project is an advisory lock instead of the project row
 *   (`FOR UPDATE`), and the project read again under it. New work holds another advisory lock,
 *   the project's gate, shared, to hold off an archive (src/store/advisory-locks.ts,
 *   app/projects.ts `assertProjectOpen`) instead of a no-op update of the row: with the row lock,
 *   every enqueue waited on every claim of its project and on every other enqueue (22 ms a
 *   statement under concurrent POSTs).
 *
 * Both databases: the index on a task's runs becomes (task_id, id). A task's status reads its
 * newest run (`order by id desc limit 1`); with `task_id` alone, PostgreSQL's cached generic plan
 * walked the primary key backwards instead (0.47 ms a call, against 0.03 for the index).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The drop first: it takes the table's strongest lock at once, rather than upgrading the index
  // build's share lock later in the transaction (a deadlock with a running replica's claims).
  await db.schema.dropIndex("runs_task").execute();
  await db.schema.createIndex("runs_task_newest").on("runs").columns(["task_id", "id"]).execute();
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const statement of queueFunctions) await sql.raw(statement).execute(db);
}
