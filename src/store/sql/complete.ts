/**
 * PostgreSQL: the end of attempts, the current bodies (migration 0009 creates them from here; a
 * change to one is an edit here plus a migration that applies it again). The batch is described in
 * migration 0007.
 *
 * `gimo_task_status` is a task's status once one of its runs has ended: deriveTaskStatus
 * (src/core/task-status.ts) restricted to a task that has runs, where drafts no longer matter —
 * EXECUTING while a run is queued or running, else how its newest run ended. A test holds the two
 * equal over every combination (test/queue-store.test.ts).
 *
 * `gimo_complete_core` ends one attempt under its fence (`lease_lost` when the runner no longer
 * holds it): a retryable failure with attempts left goes back to `queued` (unless the run's
 * cancellation was requested: then it ends `cancelled`), else the final status, and the task's
 * status; it returns the events it owes. Panic mode refuses it (SQLSTATE GM001).
 * `gimo_complete_many` ends a batch in run-id order, then claims for the ends that asked, then
 * appends every event of the batch at once.
 */

/** The derived status of a task that has runs (null for one without). */
export const taskStatus = `create or replace function gimo_task_status(p_task text) returns text
language plpgsql as $fn$
declare
  v_active boolean;
begin
  -- Both statements go through the task's own runs (index runs_task_newest): with the status
  -- test in a WHERE clause, the cached generic plan crossed it with the index on status, whose
  -- entries churn with every claim and end (0.4 ms a call in the queue bench, 0.03 this way).
  select bool_or(x.status in ('queued', 'running')) into v_active from runs x where x.task_id = p_task;
  if v_active then
    return 'EXECUTING';
  end if;
  return (select case x.status when 'succeeded' then 'COMPLETED' when 'failed' then 'FAILED' else 'CANCELLED' end
    from runs x where x.task_id = p_task order by x.id desc limit 1);
end
$fn$`;

/** One end under its fence; the events it owes. */
export const completeCore = `create or replace function gimo_complete_core(
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
  -- The end as reported, until a cancellation request turns a retryable failure into cancelled.
  v_end text := p_status;
  v_error text := p_error;
  v_error_code text := p_error_code_json;
  v_retryable boolean := p_retryable;
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
  -- A retryable failure of a run whose cancellation was requested ends it: cancelled, not retried.
  if v_run.cancel_requested = 1 and v_end = 'failed' and v_retryable then
    v_end := 'cancelled';
    v_retryable := false;
    v_error := '{"code":"cancelled","message":"cancelled on request; the runner had reported a retryable failure"}';
    v_error_code := '"cancelled"';
  end if;
  if v_end = 'failed' and v_retryable and v_run.attempt < v_run.max_attempts then
    update runs x set status = 'queued', run_after = p_retry_after, lease_expires_at = null,
      error = v_error, updated_at = p_now
      where x.id = p_run;
    outcome := 'queued';
    types := array['run.retry'];
    subjects := array[p_run];
    data := array['{"attempt":' || p_attempt || ',"error_code":' || coalesce(v_error_code, 'null') ||
      ',"task_id":' || to_json(v_run.task_id)::text || ',"wait_seconds":' || p_wait_json || '}'];
    return next;
    return;
  end if;
  update runs x set status = v_end, result = p_result, error = v_error, lease_expires_at = null,
    finished_at = p_now, updated_at = p_now
    where x.id = p_run;
  outcome := v_end;
  types := array['run.' || v_end];
  subjects := array[p_run];
  data := array['{"attempt":' || p_attempt ||
    coalesce(',"error_code":' || v_error_code, '') ||
    ',"task_id":' || to_json(v_run.task_id)::text || '}'];
  select t.status into v_task_status from tasks t where t.id = v_run.task_id for update;
  v_status := gimo_task_status(v_run.task_id);
  if v_status is distinct from v_task_status then
    update tasks t set status = v_status, updated_at = p_now where t.id = v_run.task_id;
    types := types || 'task.status'::text;
    subjects := subjects || v_run.task_id;
    data := data || ('{"from":' || to_json(v_task_status)::text || ',"to":' || to_json(v_status)::text || '}');
  end if;
  return next;
end
$fn$`;

/** A batch of ends, the claims after them and one append of their events. */
export const completeMany = `create or replace function gimo_complete_many(
  p_units json, p_now text, p_channel text, p_lease_until text, p_provider_default_limit integer,
  p_lock_timeout text
) returns table (
  i integer, outcome text, started_at text, seq bigint,
  run json, approved json, project json, executor jsonb
) language plpgsql as $fn$
declare
  u record;
  v_types text[];
  v_subjects text[];
  v_data text[];
  v_claim_data text;
  v_run json;
  v_approved json;
  v_project json;
  v_executor jsonb;
  v_last bigint;
  v_outcome text;
  v_started text;
  v_count integer := json_array_length(p_units);
  -- Per end, by position in the batch (filled out of order: sized up front).
  a_outcome text[] := array_fill(null::text, array[v_count]);
  a_started text[] := array_fill(null::text, array[v_count]);
  a_run json[] := array_fill(null::json, array[v_count]);
  a_approved json[] := array_fill(null::json, array[v_count]);
  a_project json[] := array_fill(null::json, array[v_count]);
  a_executor jsonb[] := array_fill(null::jsonb, array[v_count]);
  -- Every event of the batch, in order.
  e_types text[] := '{}';
  e_subjects text[] := '{}';
  e_data text[] := '{}';
  e_actors text[] := '{}';
  e_roles text[] := '{}';
begin
  if p_lock_timeout is not null then
    perform set_config('lock_timeout', p_lock_timeout, true);
  end if;
  for u in
    select e.value as v, e.ordinality::integer as k from json_array_elements(p_units) with ordinality e
    order by e.value ->> 'run', e.ordinality
  loop
    select c.outcome, c.started_at, c.types, c.subjects, c.data
      into v_outcome, v_started, v_types, v_subjects, v_data
      from gimo_complete_core(u.v ->> 'run', (u.v ->> 'attempt')::integer, u.v ->> 'runner',
        u.v ->> 'status', u.v ->> 'result', u.v ->> 'error', u.v ->> 'error_code_json',
        (u.v ->> 'retryable')::boolean, u.v ->> 'retry_after', u.v ->> 'wait_json', p_now) c;
    a_outcome[u.k] := v_outcome;
    a_started[u.k] := v_started;
    if v_outcome <> 'lease_lost' then
      e_types := e_types || v_types;
      e_subjects := e_subjects || v_subjects;
      e_data := e_data || v_data;
      e_actors := e_actors || array_fill(u.v ->> 'actor', array[cardinality(v_types)]);
      e_roles := e_roles || array_fill(u.v ->> 'role', array[cardinality(v_types)]);
    end if;
  end loop;
  for u in
    select e.value as v, e.ordinality::integer as k from json_array_elements(p_units) with ordinality e
    order by e.ordinality
  loop
    continue when a_outcome[u.k] = 'lease_lost' or not (u.v ->> 'claim_next')::boolean;
    select k.run, k.approved, k.project, k.executor, k.event_data
      into v_run, v_approved, v_project, v_executor, v_claim_data
      from gimo_claim_core(u.v ->> 'runner', p_now, p_lease_until, p_provider_default_limit) k;
    continue when v_run is null;
    a_run[u.k] := v_run;
    a_approved[u.k] := v_approved;
    a_project[u.k] := v_project;
    a_executor[u.k] := v_executor;
    e_types := e_types || 'run.started'::text;
    e_subjects := e_subjects || (v_run ->> 'id');
    e_data := e_data || v_claim_data;
    e_actors := e_actors || (u.v ->> 'actor');
    e_roles := e_roles || (u.v ->> 'role');
  end loop;
  if cardinality(e_types) > 0 then
    v_last := gimo_append_events_as(e_actors, e_roles, p_now, e_types, e_subjects, e_data, p_channel, true);
  end if;
  for n in 1 .. v_count loop
    i := n;
    outcome := a_outcome[n];
    started_at := a_started[n];
    seq := case when outcome = 'lease_lost' then null else v_last end;
    run := a_run[n];
    approved := a_approved[n];
    project := a_project[n];
    executor := a_executor[n];
    return next;
  end loop;
end
$fn$`;
