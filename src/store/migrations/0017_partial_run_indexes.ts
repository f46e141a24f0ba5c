import { type Kysely, sql } from "kysely";

/**
 * Three indexes on `runs` hold only the rows their queries look for, so a run's status changes
 * write fewer index entries (PostgreSQL writes an entry in every index at each update that changes
 * an indexed column, SQLite in every index naming a changed column — a partial index is skipped
 * for a row outside its predicate):
 *
 *   runs_lease             (lease_expires_at) of running runs: the sweeper's expired leases;
 *   runs_provider_running  (provider_key) of running runs: an executor's slots at each claim;
 *   runs_finished          (finished_at) of finished runs: retention's oldest first.
 *
 * A run's life (inserted queued, claimed, ended) wrote 22 index entries on PostgreSQL; now 16.
 * Both databases match the predicates to the queries' own `status = 'running'` and
 * `finished_at < ?` terms (a bound value included: SQLite compares it when it plans).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Each drop before its build, as in 0016: the table's strongest lock taken at once.
  await db.schema.dropIndex("runs_lease").execute();
  await sql`create index runs_lease on runs (lease_expires_at) where status = 'running'`.execute(db);
  await db.schema.dropIndex("runs_provider_status").execute();
  await sql`create index runs_provider_running on runs (provider_key) where status = 'running'`.execute(db);
  await db.schema.dropIndex("runs_finished").execute();
  await sql`create index runs_finished on runs (finished_at) where finished_at is not null`.execute(db);
}
