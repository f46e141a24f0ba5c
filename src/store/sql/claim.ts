import { PROJECT_ADMISSION_LOCK } from "../advisory-locks.ts";

/**
 * PostgreSQL: the claim, the current bodies (migration 0009 creates them from here; a change to one
 * is an edit here plus a migration that applies it again). The rules are QueueStore's
 * (src/store/queue-store.ts); the walk is described in migration 0006, the recorded content hash
 * in 0008.
 *
 * `gimo_claim_walk` reads the queued runs in claim order through a cursor, skips what waits (its
 * `run_after`, its dependencies, a project or executor found full, an agent step while the project
 * has no executor and the runner runs agent steps with it) and claims the first admitted
 * run (`FOR UPDATE SKIP LOCKED`), answering it with its approved plan, project, executor and the
 * data of its `run.started` event. `gimo_claim_core` puts the content hash the approval recorded in
 * the event log into the approved plan; `gimo_claim` appends the event. Locks are taken in one
 * order everywhere: run, task, project admission lock, executor advisory lock, `event_head` last.
 *
 * The project's admission lock is an advisory lock (advisory-locks.ts), not the project row:
 * claims of one project still admit one at a time, but enqueues and edits of the project no longer
 * wait on claims. The project row is read again under the lock, so a limit lowered by an edit
 * that committed meanwhile is the one counted against. Every function here is PL/pgSQL, not a
 * SQL-language function, because PostgreSQL before 18 plans a SQL-language function that is not
 * inlined again at every call (0.1–0.25 ms each, measured); PL/pgSQL keeps its plans.
 */

/** How many runs of a project are running (a fresh snapshot each call). */
export const projectRunning = `create or replace function gimo_project_running(p_project text) returns bigint
language plpgsql as $fn$
begin
  return (select count(*) from runs x where x.project_id = p_project and x.status = 'running');
end
$fn$`;

/** How many runs hold an executor's slot. */
export const providerRunning = `create or replace function gimo_provider_running(p_key text) returns bigint
language plpgsql as $fn$
begin
  return (select count(*) from runs x where x.provider_key = p_key and x.status = 'running');
end
$fn$`;

/** The walk: claims the first admitted queued run, or nothing. */
export const claimWalk = `create or replace function gimo_claim_walk(
  p_runner text, p_now text, p_lease_until text, p_provider_default_limit integer
) returns table (run json, approved json, project json, executor jsonb, event_data text)
language plpgsql as $fn$
declare
  queued no scroll cursor for
    select r.id, r.project_id, r.approved_id, r.run_after from runs r
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
  v_uses_executor boolean;
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
      -- The project: counted without a lock first, then read and counted again under its
      -- admission lock (an advisory lock, not the row's: enqueues and edits do not wait on claims).
      select * into v_project from projects p where p.id = c.project_id;
      if gimo_project_running(c.project_id) >= v_project.max_concurrent_runs then
        v_full := v_full || c.project_id;
        continue;
      end if;
      perform pg_advisory_xact_lock(${PROJECT_ADMISSION_LOCK}, hashtext(c.project_id));
      select * into v_project from projects p where p.id = c.project_id;
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
    -- No executor for this project: a runner that runs agent steps with it (the built-in
    -- executor) gets only plans without an agent step (0013).
    if v_executor is null then
      v_uses_executor := coalesce(v_uses_executor,
        (select x.uses_executor = 1 from runners x where x.id = p_runner), false);
      continue when v_uses_executor and exists (
        select 1 from approved a, json_array_elements(a.plan::json -> 'steps') s
        where a.id = c.approved_id and s ->> 'kind' = 'agent');
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
$fn$`;

/** An approved row with the content hash its `draft.approved` event recorded. */
export const chainedApproval = `create or replace function gimo_chained_approval(p_approved json) returns json
language plpgsql stable as $fn$
begin
  if p_approved is null then
    return null;
  end if;
  return (p_approved::jsonb || jsonb_build_object('content_hash', coalesce(
    (select e.data::jsonb ->> 'content_hash' from events e
      where e.subject = p_approved ->> 'draft_id' and e.type = 'draft.approved'
        and e.data::jsonb ->> 'approved_id' = p_approved ->> 'id'
      order by e.seq limit 1),
    'unrecorded')))::json;
end
$fn$`;

/** The walk, its approved plan carrying the recorded hash. */
export const claimCore = `create or replace function gimo_claim_core(
  p_runner text, p_now text, p_lease_until text, p_provider_default_limit integer
) returns table (run json, approved json, project json, executor jsonb, event_data text)
language plpgsql as $fn$
begin
  return query select k.run, gimo_chained_approval(k.approved), k.project, k.executor, k.event_data
    from gimo_claim_walk(p_runner, p_now, p_lease_until, p_provider_default_limit) k;
end
$fn$`;

/** A claim and its `run.started` event in one call. */
export const claim = `create or replace function gimo_claim(
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
$fn$`;
