import { type Kysely, PostgresAdapter } from "kysely";

/**
 * SQLite: no `runs_lease`. Without statistics, SQLite's planner reads the sweeper's expired leases
 * through `runs_status` (the few running runs), never through the partial `runs_lease` of 0017, so
 * on SQLite that index only cost writes at every claim, lease renewal and end. PostgreSQL keeps it:
 * its planner uses it for the sweep.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await db.schema.dropIndex("runs_lease").execute();
}
