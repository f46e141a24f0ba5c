import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * Claims walk the queue instead of looking at a fixed window of it.
 *
 * Until now a claim looked at the first 16 claimable runs in claim order and gave up if none of
 * them was admitted. So 16 queued runs of a project at its `max_concurrent_runs` (or at its
 * executor's) hid every run queued behind them, of every other project, until that project
 * drained. And on PostgreSQL the candidates query, with its `run_after` and dependency filters,
 * was planned as "read every queued run, then sort": with a backlog of 1,000 runs a claim read
 * some 2,500 buffers and took 1.9 ms, and the cost grew with the backlog.
 *
 * Now `gimo_claim_core` reads the queued runs through a cursor in claim order: a plain ordered
 * read of the partial index `runs_queued`, which stops at the run it claims. Each run is checked
 * in turn (its `run_after`, its dependencies, its project's admission); a project found full is
 * remembered, so the rest of its backlog costs an array lookup per run. Admission is counted
 * first without a lock; only a project that seems to have room is locked and counted again, so a
 * claim holds the lock of the project it claims from and (rarely) of one that filled up while it
 * waited. The run itself is then locked `FOR UPDATE SKIP LOCKED`: a run another claim holds is
 * passed over, never waited for. Locks are still taken in the order of migration 0005 (run, task,
 * project, executor, `event_head`); the claimed run's lock comes after the project's, but as
 * SKIP LOCKED it never waits, so it cannot close a cycle. Two claims that lock two full projects
 * in opposite orders could deadlock; PostgreSQL breaks that, and the store retries the unit.
 *
 * The SQLite claim walks the same way (QueueService.claimIn), and both drop `runs_claimable`, an
 * index of the first claim query that nothing reads any more (one index less to update on every
 * change of a run's status).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists runs_claimable`.execute(db);
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  // Volatile (the default): each count takes a fresh snapshot, so it sees every claim committed
  // while the caller waited for a lock.
  await sql`
    create or replace function gimo_project_running(p_project text) returns bigint
    language sql as $fn$
      select count(*) from runs x where x.project_id = p_project and x.status = 'running'
    $fn$`.execute(db);
  await sql`
    create or replace function gimo_provider_running(p_key text) returns bigint
    language sql as $fn$
      select count(*) from runs x where x.provider_key = p_key and x.status = 'running'
    $fn$`.execute(db);
  await sql`
    create or replace function gimo_claim_core(
      p_runner text, p_now text, p_lease_until text, p_provider_default_limit integer
    ) returns table (run json, approved json, project json, executor jsonb, event_data text)
    language plpgsql as $fn$
    declare
      queued no scroll cursor for
        select r.id, r.project_id, r.run_after from runs r
        where r.status = 'queued'
        order by r.priority desc, r.id;
      c record;
      v_full text[] := '{}';
      v_admitted text;
      v_project projects;
      v_limit integer;
      v_executor jsonb;
      v_key text;
      v_run runs;
    begin
      if coalesce((select (value::jsonb ->> 'on')::boolean from settings where key = 'panic'), false) then
        return;
      end if;
      open queued;
      loop
        fetch queued into c;
        exit when not found;
        continue when c.run_after > p_now or c.project_id = any(v_full);
        continue when exists (
          select 1 from run_dependencies d join runs dep on dep.id = d.depends_on
          where d.run_id = c.id and dep.status <> 'succeeded');
        if v_admitted is distinct from c.project_id then
          -- The project: counted without a lock first, then locked and counted again.
          select * into v_project from projects p where p.id = c.project_id;
          if gimo_project_running(c.project_id) >= v_project.max_concurrent_runs then
            v_full := v_full || c.project_id;
            continue;
          end if;
          select * into v_project from projects p where p.id = c.project_id for update;
          if gimo_project_running(c.project_id) >= v_project.max_concurrent_runs then
            v_full := v_full || c.project_id;
            continue;
          end if;
          -- Its executor (the project's own, else the server's) and that executor's own limit.
          v_executor := coalesce(
            v_project.config::jsonb -> 'executor',
            (select s.value::jsonb -> 'executor' from settings s where s.key = 'providers'));
          if jsonb_typeof(v_executor) = 'object' then
            v_key := (v_executor ->> 'type') || '|' || coalesce(v_executor ->> 'base_url', '') || '|' ||
              (v_executor ->> 'model');
            v_limit := coalesce((v_executor -> 'options' ->> 'max_concurrent_runs')::integer,
              p_provider_default_limit);
            if gimo_provider_running(v_key) >= v_limit then
              v_full := v_full || c.project_id;
              continue;
            end if;
            perform pg_advisory_xact_lock(hashtext(v_key));
            if gimo_provider_running(v_key) >= v_limit then
              v_full := v_full || c.project_id;
              continue;
            end if;
          else
            v_executor := null;
            v_key := null;
          end if;
          v_admitted := c.project_id;
        end if;
        perform 1 from runs x where x.id = c.id and x.status = 'queued' for update skip locked;
        continue when not found;
        update runs x set
          status = 'running', attempt = x.attempt + 1, lease_owner = p_runner,
          lease_expires_at = p_lease_until, cancel_requested = 0, provider_key = v_key,
          started_at = coalesce(x.started_at, p_now), updated_at = p_now
        where x.id = c.id
        returning x.* into v_run;
        close queued;
        run := row_to_json(v_run);
        approved := (select row_to_json(a) from approved a where a.id = v_run.approved_id);
        project := row_to_json(v_project);
        executor := v_executor;
        event_data := '{"attempt":' || v_run.attempt || ',"runner_id":' || to_json(p_runner)::text ||
          ',"task_id":' || to_json(v_run.task_id)::text || '}';
        return next;
        return;
      end loop;
      close queued;
    end
    $fn$`.execute(db);
}
