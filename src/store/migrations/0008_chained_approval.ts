import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * PostgreSQL: a claim carries the `content_hash` the approval recorded in the event log.
 *
 * `gimo_claim_core` (0006) answered the approved row as it stood, `content_hash` column included.
 * Rewrite that row's plan and hash together and the runner's check of the plan against the hash
 * passed: the rewritten plan ran. The hash that counts is the one in the approval's hash-chained
 * `draft.approved` event (src/app/approval-record.ts; the SQLite claim does the same in
 * QueueService.claimIn).
 *
 * The walk of 0006 is kept as it is, renamed `gimo_claim_walk`; `gimo_claim_core` now wraps it
 * and replaces the approved row's `content_hash` with the recorded one (`unrecorded` when the log
 * has no such event, which no plan matches). `gimo_claim` (0005) and `gimo_complete_many` (0007)
 * call `gimo_claim_core` by name, so both claims and claims-after-completion carry it. The lookup
 * reads the approval's draft's events through `events_subject` (subject, seq).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter function gimo_claim_core(text, text, text, integer) rename to gimo_claim_walk`.execute(db);
  await sql`
    create or replace function gimo_chained_approval(p_approved json) returns json
    language sql stable as $fn$
      select case when p_approved is null then null else
        (p_approved::jsonb || jsonb_build_object('content_hash', coalesce(
          (select e.data::jsonb ->> 'content_hash' from events e
            where e.subject = p_approved ->> 'draft_id' and e.type = 'draft.approved'
              and e.data::jsonb ->> 'approved_id' = p_approved ->> 'id'
            order by e.seq limit 1),
          'unrecorded')))::json
      end
    $fn$`.execute(db);
  await sql`
    create or replace function gimo_claim_core(
      p_runner text, p_now text, p_lease_until text, p_provider_default_limit integer
    ) returns table (run json, approved json, project json, executor jsonb, event_data text)
    language sql as $fn$
      select k.run, gimo_chained_approval(k.approved), k.project, k.executor, k.event_data
        from gimo_claim_walk(p_runner, p_now, p_lease_until, p_provider_default_limit) k
    $fn$`.execute(db);
}
