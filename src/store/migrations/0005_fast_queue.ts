import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * The queue's hot path with fewer round trips.
 *
 * Both databases get a partial index of the queued runs in claim order, so a claim reads the few
 * claimable rows instead of scanning every run.
 *
 * PostgreSQL also gets `gimo_append_events`: the event log's append (lock the head, chain the
 * hashes, insert, move the head, NOTIFY) as one call instead of four statements. Every write pays
 * one round trip for its events, and the `event_head` lock, which serialises all writers, is held
 * from that call to the commit only. The hash is the one `hashEvent` computes in TypeScript:
 * `sha256:` of the canonical JSON of `{actor, data, prev_hash, role, seq, subject, ts, type}`, keys
 * in that (sorted) order, every field a string but `seq`. `to_json(text)` escapes exactly as
 * `JSON.stringify` does for text PostgreSQL can hold; `verifyChain` (TypeScript) checks the result
 * in the test suite on every PostgreSQL write.
 *
 * And `gimo_claim`, the claim of src/app/queue.ts (read its comment for the rules) as one call:
 * candidates locked `FOR UPDATE SKIP LOCKED` in claim order; for each, the project row locked and
 * its running runs counted, then the executor's advisory lock taken and its running runs counted
 * (each count a statement of its own, so it sees every claim committed while it waited for the
 * lock); the first admitted run moves to `running` and its `run.started` event is appended. It
 * returns the run, its approved plan, its project and the executor configuration it was admitted
 * under (the project's own, else the server's), or no row.
 *
 * And `gimo_complete`, the end of an attempt (RunReportService.complete) as one call: the fenced
 * row lock (`lease_lost` when the runner no longer holds this attempt), a retryable failure with
 * attempts left back to `queued` at `p_retry_after`, else the final status; its event; and the
 * task's derived status. Once a run has finished, deriveTaskStatus (src/core/task-status.ts) can
 * only answer EXECUTING (a run of the task is still queued or running) or the latest run's end
 * (COMPLETED, FAILED, CANCELLED): that is all `gimo_complete` computes. What the runner sent goes
 * into event data as JSON the caller formatted (`p_error_code_json`, `p_wait_json`: escaped, so a
 * NUL or a lone surrogate in an error code is text PostgreSQL can hold); the rest, ids and
 * statuses, through `to_json`.
 * With `p_claim_next` it then claims the next run for the same runner, in the same transaction.
 *
 * Like every write but a claim, an end is refused in panic mode: `gimo_complete_core` raises
 * SQLSTATE GM001, which the store turns into `panic_mode`.
 *
 * Each is a `_core` function that changes rows and returns the events it owes, and a wrapper that
 * appends them. So every transaction takes its locks in one order — run row, task row, project
 * row, executor advisory lock, and `event_head` last — and two of them can never deadlock.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index runs_queued on runs (priority desc, id) where status = 'queued'`.execute(db);
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create or replace function gimo_append_events(
      p_actor text, p_role text, p_ts text,
      p_types text[], p_subjects text[], p_data text[],
      p_channel text, p_queue_changed boolean
    ) returns bigint language plpgsql as $fn$
    declare
      v_seq bigint;
      v_hash text;
      v_prev text;
    begin
      select seq, hash into v_seq, v_hash from event_head where id = 1 for update;
      for i in 1 .. coalesce(array_length(p_types, 1), 0) loop
        v_seq := v_seq + 1;
        v_prev := v_hash;
        v_hash := 'sha256:' || encode(sha256(convert_to(
          '{"actor":' || to_json(p_actor)::text ||
          ',"data":' || to_json(p_data[i])::text ||
          ',"prev_hash":' || to_json(v_prev)::text ||
          ',"role":' || to_json(p_role)::text ||
          ',"seq":' || v_seq::text ||
          ',"subject":' || to_json(p_subjects[i])::text ||
          ',"ts":' || to_json(p_ts)::text ||
          ',"type":' || to_json(p_types[i])::text || '}', 'UTF8')), 'hex');
        insert into events (seq, ts, actor, role, type, subject, data, prev_hash, hash)
          values (v_seq, p_ts, p_actor, p_role, p_types[i], p_subjects[i], p_data[i], v_prev, v_hash);
      end loop;
      update event_head set seq = v_seq, hash = v_hash where id = 1;
      perform pg_notify(p_channel, v_seq::text || case when p_queue_changed then ':q' else '' end);
      return v_seq;
    end
    $fn$`.execute(db);

  await sql`
    create or replace function gimo_claim_core(
      p_runner text, p_now text, p_lease_until text, p_provider_default_limit integer
    ) returns table (run json, approved json, project json, executor jsonb, event_data text)
    language plpgsql as $fn$
    declare
      c record;
      v_project projects;
      v_running bigint;
      v_executor jsonb;
      v_key text;
      v_run runs;
    begin
      if coalesce((select (value::jsonb ->> 'on')::boolean from settings where key = 'panic'), false) then
        return;
      end if;
      for c in
        select r.id, r.project_id from runs r
        where r.status = 'queued' and r.run_after <= p_now
          and not exists (
            select 1 from run_dependencies d join runs dep on dep.id = d.depends_on
            where d.run_id = r.id and dep.status <> 'succeeded')
        order by r.priority desc, r.id
        limit 16
        for update of r skip locked
      loop
        select * into v_project from projects p where p.id = c.project_id for update;
        select count(*) into v_running from runs x where x.project_id = c.project_id and x.status = 'running';
        continue when v_running >= v_project.max_concurrent_runs;
        v_executor := coalesce(
          v_project.config::jsonb -> 'executor',
          (select s.value::jsonb -> 'executor' from settings s where s.key = 'providers'));
        if jsonb_typeof(v_executor) = 'object' then
          v_key := (v_executor ->> 'type') || '|' || coalesce(v_executor ->> 'base_url', '') || '|' || (v_executor ->> 'model');
          perform pg_advisory_xact_lock(hashtext(v_key));
          select count(*) into v_running from runs x where x.provider_key = v_key and x.status = 'running';
          continue when v_running >= coalesce((v_executor -> 'options' ->> 'max_concurrent_runs')::integer, p_provider_default_limit);
        else
          v_executor := null;
          v_key := null;
        end if;
        update runs x set
          status = 'running', attempt = x.attempt + 1, lease_owner = p_runner,
          lease_expires_at = p_lease_until, cancel_requested = 0, provider_key = v_key,
          started_at = coalesce(x.started_at, p_now), updated_at = p_now
        where x.id = c.id and x.status = 'queued'
        returning x.* into v_run;
        continue when not found;
        run := row_to_json(v_run);
        approved := (select row_to_json(a) from approved a where a.id = v_run.approved_id);
        project := row_to_json(v_project);
        executor := v_executor;
        event_data := '{"attempt":' || v_run.attempt || ',"runner_id":' || to_json(p_runner)::text ||
          ',"task_id":' || to_json(v_run.task_id)::text || '}';
        return next;
        return;
      end loop;
    end
    $fn$`.execute(db);

  await sql`
    create or replace function gimo_claim(
      p_runner text, p_now text, p_lease_until text, p_actor text, p_role text, p_channel text,
      p_provider_default_limit integer
    ) returns table (run json, approved json, project json, executor jsonb, seq bigint)
    language plpgsql as $fn$
    declare
      v_data text;
    begin
      select k.run, k.approved, k.project, k.executor, k.event_data
        into run, approved, project, executor, v_data
        from gimo_claim_core(p_runner, p_now, p_lease_until, p_provider_default_limit) k;
      if run is null then
        return;
      end if;
      seq := gimo_append_events(p_actor, p_role, p_now, array['run.started'], array[run ->> 'id'],
        array[v_data], p_channel, false);
      return next;
    end
    $fn$`.execute(db);

  await sql`
    create or replace function gimo_complete_core(
      p_run text, p_attempt integer, p_runner text, p_status text,
      p_result text, p_error text, p_error_code_json text, p_retryable boolean,
      p_retry_after text, p_wait_json text, p_now text
    ) returns table (outcome text, started_at text, types text[], subjects text[], data text[])
    language plpgsql as $fn$
    declare
      v_run runs;
      v_task_status text;
      v_status text;
      v_panic boolean;
      v_reason text;
    begin
      select (s.value::jsonb ->> 'on')::boolean, s.value::jsonb ->> 'reason' into v_panic, v_reason
        from settings s where s.key = 'panic';
      if v_panic then
        raise exception using errcode = 'GM001', message = 'panic mode is on' || coalesce(': ' || v_reason, '');
      end if;
      select * into v_run from runs x
        where x.id = p_run and x.status = 'running' and x.attempt = p_attempt and x.lease_owner = p_runner
        for update;
      if not found then
        outcome := 'lease_lost';
        return next;
        return;
      end if;
      started_at := v_run.started_at;
      if p_status = 'failed' and p_retryable and v_run.attempt < v_run.max_attempts then
        update runs x set status = 'queued', run_after = p_retry_after, lease_expires_at = null,
          error = p_error, updated_at = p_now
          where x.id = p_run;
        outcome := 'queued';
        types := array['run.retry'];
        subjects := array[p_run];
        data := array['{"attempt":' || p_attempt || ',"error_code":' || coalesce(p_error_code_json, 'null') ||
          ',"task_id":' || to_json(v_run.task_id)::text || ',"wait_seconds":' || p_wait_json || '}'];
        return next;
        return;
      end if;
      update runs x set status = p_status, result = p_result, error = p_error, lease_expires_at = null,
        finished_at = p_now, updated_at = p_now
        where x.id = p_run;
      outcome := p_status;
      types := array['run.' || p_status];
      subjects := array[p_run];
      data := array['{"attempt":' || p_attempt ||
        coalesce(',"error_code":' || p_error_code_json, '') ||
        ',"task_id":' || to_json(v_run.task_id)::text || '}'];
      select t.status into v_task_status from tasks t where t.id = v_run.task_id for update;
      v_status := case
        when exists (select 1 from runs x where x.task_id = v_run.task_id and x.status in ('queued', 'running'))
          then 'EXECUTING'
        else (select case x.status when 'succeeded' then 'COMPLETED' when 'failed' then 'FAILED' else 'CANCELLED' end
              from runs x where x.task_id = v_run.task_id order by x.id desc limit 1)
      end;
      if v_status is distinct from v_task_status then
        update tasks t set status = v_status, updated_at = p_now where t.id = v_run.task_id;
        types := types || 'task.status'::text;
        subjects := subjects || v_run.task_id;
        data := data || ('{"from":' || to_json(v_task_status)::text || ',"to":' || to_json(v_status)::text || '}');
      end if;
      return next;
    end
    $fn$`.execute(db);

  await sql`
    create or replace function gimo_complete(
      p_run text, p_attempt integer, p_runner text, p_status text,
      p_result text, p_error text, p_error_code_json text, p_retryable boolean,
      p_retry_after text, p_wait_json text,
      p_now text, p_actor text, p_role text, p_channel text,
      p_claim_next boolean, p_lease_until text, p_provider_default_limit integer
    ) returns table (
      outcome text, started_at text, seq bigint,
      run json, approved json, project json, executor jsonb
    ) language plpgsql as $fn$
    declare
      v_types text[];
      v_subjects text[];
      v_data text[];
      v_claim_data text;
    begin
      select c.outcome, c.started_at, c.types, c.subjects, c.data
        into outcome, started_at, v_types, v_subjects, v_data
        from gimo_complete_core(p_run, p_attempt, p_runner, p_status, p_result, p_error, p_error_code_json,
          p_retryable, p_retry_after, p_wait_json, p_now) c;
      if outcome = 'lease_lost' then
        return next;
        return;
      end if;
      if p_claim_next then
        select k.run, k.approved, k.project, k.executor, k.event_data
          into run, approved, project, executor, v_claim_data
          from gimo_claim_core(p_runner, p_now, p_lease_until, p_provider_default_limit) k;
      end if;
      if run is not null then
        v_types := v_types || 'run.started'::text;
        v_subjects := v_subjects || (run ->> 'id');
        v_data := v_data || v_claim_data;
      end if;
      seq := gimo_append_events(p_actor, p_role, p_now, v_types, v_subjects, v_data, p_channel, true);
      return next;
    end
    $fn$`.execute(db);
}
