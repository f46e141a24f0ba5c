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
 *   (`FOR UPDATE`). New work takes the row in share mode to hold off an archive
 *   (app/projects.ts, `assertProjectOpen`); with the row lock, every enqueue waited on every
 *   claim of its project and on every other enqueue (22 ms a statement under concurrent POSTs).
 *
 * Both databases: the index on a task's runs becomes (task_id, id). A task's status reads its
 * newest run (`order by id desc limit 1`); with `task_id` alone, PostgreSQL's cached generic plan
 * walked the primary key backwards instead (0.47 ms a call, against 0.03 for the index).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("runs_task_newest").on("runs").columns(["task_id", "id"]).execute();
  await db.schema.dropIndex("runs_task").execute();
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const statement of queueFunctions) await sql.raw(statement).execute(db);
}
