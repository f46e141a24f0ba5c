import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * PostgreSQL: the ends of many runs in one statement.
 *
 * Ends that arrive while one is being written are batched (src/app/run-ends-postgres.ts).
 * Until now a batch was a transaction of one `gimo_complete` call per end: a round trip each, plus
 * BEGIN and COMMIT, all while the batch held the event log's lock. `gimo_complete_many` takes the
 * whole batch as one JSON array and does, in one statement (so one transaction):
 *
 *   1. every end, in run-id order (so two batches lock run rows in one order): the run row locked;
 *      a runner that no longer holds that attempt gets `lease_lost` for that end only; a retryable
 *      failure of a run whose cancellation was requested ends it `cancelled` instead of putting it
 *      back in the queue (the person asked for it to stop); then `gimo_complete_core`;
 *   2. then, in the batch's order, `gimo_claim_core` for each end that asked for `claim_next`;
 *   3. then every event of the batch in one append (`gimo_append_events_as`, which takes each
 *      event's actor and role): the `event_head` lock is taken last and once;
 *   4. one row per end: `i` (its 1-based position in the array), its outcome, the run it claimed
 *      if any, and (unless it lost its lease) `seq`, the batch's last event.
 *
 * A batch holds the locks of several ends at once, so it can meet another transaction that locks
 * the same rows in another order (a cancel of one of its runs, a claim that walks to another
 * project). With `p_lock_timeout` it gives up after that long instead of waiting for PostgreSQL's
 * deadlock detector: the statement fails whole, and the caller writes each end alone, which
 * waits as usual. An error (panic mode raises GM001 from `gimo_complete_core`) fails it whole too.
 * A single end is a batch of one without a lock timeout, so `gimo_complete` (0005) is dropped.
 *
 * `gimo_append_events` (0005) now delegates to `gimo_append_events_as`, so the hash chain is
 * computed by one function in the database (and by `hashEvent` in TypeScript).
 *
 * Each element of `p_units`: `run, attempt, runner, status, result, error, error_code_json,
 * retryable, retry_after, wait_json, claim_next, actor, role` — the arguments of `gimo_complete`,
 * with the ones that differ between runners carried per end.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create or replace function gimo_append_events_as(
      p_actors text[], p_roles text[], p_ts text,
      p_types text[], p_subjects text[], p_data text[],
      p_channel text, p_queue_changed boolean
    ) returns bigint language plpgsql as $fn$
    declare
      v_head event_head;
      v_prev text;
    begin
      select * into v_head from event_head where id = 1 for update;
      for n in 1 .. coalesce(array_length(p_types, 1), 0) loop
        v_head.seq := v_head.seq + 1;
        v_prev := v_head.hash;
        -- The canonical JSON of hashEvent (TypeScript, src/store/event-log.ts).
        v_head.hash := 'sha256:' || encode(sha256(convert_to(
          '{"actor":' || to_json(p_actors[n])::text || ',"data":' || to_json(p_data[n])::text ||
          ',"prev_hash":' || to_json(v_prev)::text || ',"role":' || to_json(p_roles[n])::text ||
          ',"seq":' || v_head.seq::text || ',"subject":' || to_json(p_subjects[n])::text ||
          ',"ts":' || to_json(p_ts)::text || ',"type":' || to_json(p_types[n])::text || '}',
          'UTF8')), 'hex');
        insert into events (seq, ts, actor, role, type, subject, data, prev_hash, hash)
          values (v_head.seq, p_ts, p_actors[n], p_roles[n], p_types[n], p_subjects[n], p_data[n],
            v_prev, v_head.hash);
      end loop;
      update event_head set seq = v_head.seq, hash = v_head.hash where id = 1;
      perform pg_notify(p_channel, v_head.seq::text || case when p_queue_changed then ':q' else '' end);
      return v_head.seq;
    end
    $fn$`.execute(db);

  await sql`
    create or replace function gimo_append_events(
      p_actor text, p_role text, p_ts text,
      p_types text[], p_subjects text[], p_data text[],
      p_channel text, p_queue_changed boolean
    ) returns bigint language sql as $fn$
      select gimo_append_events_as(
        array_fill(p_actor, array[coalesce(cardinality(p_types), 0)]),
        array_fill(p_role, array[coalesce(cardinality(p_types), 0)]),
        p_ts, p_types, p_subjects, p_data, p_channel, p_queue_changed)
    $fn$`.execute(db);

  await sql`drop function gimo_complete(text, integer, text, text, text, text, text, boolean, text, text,
    text, text, text, text, boolean, text, integer)`.execute(db);

  await sql`
    create or replace function gimo_complete_many(
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
      v_cancel boolean;
      v_status text;
      v_error text;
      v_error_code text;
      v_retryable boolean;
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
        v_status := u.v ->> 'status';
        v_error := u.v ->> 'error';
        v_error_code := u.v ->> 'error_code_json';
        v_retryable := (u.v ->> 'retryable')::boolean;
        select x.cancel_requested = 1 into v_cancel from runs x
          where x.id = u.v ->> 'run' and x.status = 'running' and x.attempt = (u.v ->> 'attempt')::integer
            and x.lease_owner = u.v ->> 'runner'
          for update;
        if v_cancel and v_status = 'failed' and v_retryable then
          v_status := 'cancelled';
          v_retryable := false;
          v_error := '{"code":"cancelled","message":"cancelled on request; the runner had reported a retryable failure"}';
          v_error_code := '"cancelled"';
        end if;
        select c.outcome, c.started_at, c.types, c.subjects, c.data
          into v_outcome, v_started, v_types, v_subjects, v_data
          from gimo_complete_core(u.v ->> 'run', (u.v ->> 'attempt')::integer, u.v ->> 'runner', v_status,
            u.v ->> 'result', v_error, v_error_code, v_retryable, u.v ->> 'retry_after', u.v ->> 'wait_json',
            p_now) c;
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
    $fn$`.execute(db);
}
