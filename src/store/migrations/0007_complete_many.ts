import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * PostgreSQL: the ends of many runs in one statement.
 *
 * Ends that arrive while one is being written are batched (RunReportService, src/store/batcher.ts).
 * Until now a batch was a transaction of one `gimo_complete` call per end: a round trip each, plus
 * BEGIN and COMMIT, all while the batch held the event log's lock. `gimo_complete_many` takes the
 * whole batch as one JSON array and does, in one statement (so one transaction):
 *
 *   1. for each end, in order: `gimo_complete_core` (the fenced end; `lease_lost` when the runner no
 *      longer holds that attempt, which skips the rest for that end only) and, with `claim_next`,
 *      `gimo_claim_core` for the same runner — so each end's run row, task row and project row are
 *      locked in the order of migration 0005;
 *   2. then the events of every end, in order, in one append (`gimo_append_events_as`, which takes
 *      each event's actor and role): the `event_head` lock is taken last and once;
 *   3. one row per end: `i` (its 1-based position in the array), its outcome, and, unless it lost
 *      its lease, the seq of its last event and the run it claimed, if any.
 *
 * An error (panic mode raises GM001 from `gimo_complete_core`; a deadlock; a lost connection)
 * rolls the statement back whole; the caller then ends each run alone.
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
        -- The canonical JSON of hashEvent (TypeScript), as in gimo_append_events (migration 0005).
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
    create or replace function gimo_complete_many(
      p_units json, p_now text, p_channel text, p_lease_until text, p_provider_default_limit integer
    ) returns table (
      i integer, outcome text, started_at text, seq bigint,
      run json, approved json, project json, executor jsonb
    ) language plpgsql as $fn$
    declare
      u json;
      v_types text[];
      v_subjects text[];
      v_data text[];
      v_claim_data text;
      v_outcome text;
      v_started text;
      v_run json;
      v_approved json;
      v_project json;
      v_executor jsonb;
      -- Per end, in order.
      a_outcome text[] := '{}';
      a_started text[] := '{}';
      a_run json[] := '{}';
      a_approved json[] := '{}';
      a_project json[] := '{}';
      a_executor jsonb[] := '{}';
      a_events integer[] := '{}'; -- events appended up to and including this end
      -- Every end's events, in order.
      e_types text[] := '{}';
      e_subjects text[] := '{}';
      e_data text[] := '{}';
      e_actors text[] := '{}';
      e_roles text[] := '{}';
      v_last bigint;
    begin
      for u in select value from json_array_elements(p_units) loop
        v_run := null;
        v_approved := null;
        v_project := null;
        v_executor := null;
        select c.outcome, c.started_at, c.types, c.subjects, c.data
          into v_outcome, v_started, v_types, v_subjects, v_data
          from gimo_complete_core(u ->> 'run', (u ->> 'attempt')::integer, u ->> 'runner', u ->> 'status',
            u ->> 'result', u ->> 'error', u ->> 'error_code_json', (u ->> 'retryable')::boolean,
            u ->> 'retry_after', u ->> 'wait_json', p_now) c;
        if v_outcome <> 'lease_lost' then
          if (u ->> 'claim_next')::boolean then
            select k.run, k.approved, k.project, k.executor, k.event_data
              into v_run, v_approved, v_project, v_executor, v_claim_data
              from gimo_claim_core(u ->> 'runner', p_now, p_lease_until, p_provider_default_limit) k;
            if v_run is not null then
              v_types := v_types || 'run.started'::text;
              v_subjects := v_subjects || (v_run ->> 'id');
              v_data := v_data || v_claim_data;
            end if;
          end if;
          e_types := e_types || v_types;
          e_subjects := e_subjects || v_subjects;
          e_data := e_data || v_data;
          e_actors := e_actors || array_fill(u ->> 'actor', array[cardinality(v_types)]);
          e_roles := e_roles || array_fill(u ->> 'role', array[cardinality(v_types)]);
        end if;
        a_outcome := a_outcome || v_outcome;
        a_started := a_started || v_started;
        a_run := a_run || v_run;
        a_approved := a_approved || v_approved;
        a_project := a_project || v_project;
        a_executor := a_executor || v_executor;
        a_events := a_events || cardinality(e_types);
      end loop;
      if cardinality(e_types) > 0 then
        v_last := gimo_append_events_as(e_actors, e_roles, p_now, e_types, e_subjects, e_data, p_channel, true);
      end if;
      for n in 1 .. cardinality(a_outcome) loop
        i := n;
        outcome := a_outcome[n];
        started_at := a_started[n];
        seq := case when outcome = 'lease_lost' then null
          else v_last - cardinality(e_types) + a_events[n] end;
        run := a_run[n];
        approved := a_approved[n];
        project := a_project[n];
        executor := a_executor[n];
        return next;
      end loop;
    end
    $fn$`.execute(db);
}
