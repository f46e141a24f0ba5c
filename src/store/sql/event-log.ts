/**
 * PostgreSQL: the event log's append, the current bodies (migration 0009 creates them from here;
 * a change to one is an edit here plus a migration that applies it again).
 *
 * `gimo_append_events_as` locks `event_head`, chains the hashes (the canonical JSON `hashEvent`
 * computes in TypeScript: `sha256:` of `{actor, data, prev_hash, role, seq, subject, ts, type}`,
 * keys sorted, every field a string but `seq`; `to_json(text)` escapes as `JSON.stringify` does),
 * inserts, moves the head and sends the NOTIFY (`<seq>[:q]`) that wakes other processes.
 * `gimo_append_events` is the same with one actor and role for every event.
 */

/** Appends events, each with its own actor and role; returns the last seq. */
export const appendEventsAs = `create or replace function gimo_append_events_as(
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
$fn$`;

/** Appends events of one actor and role; returns the last seq. */
export const appendEvents = `create or replace function gimo_append_events(
  p_actor text, p_role text, p_ts text,
  p_types text[], p_subjects text[], p_data text[],
  p_channel text, p_queue_changed boolean
) returns bigint language plpgsql as $fn$
begin
  return gimo_append_events_as(
    array_fill(p_actor, array[coalesce(cardinality(p_types), 0)]),
    array_fill(p_role, array[coalesce(cardinality(p_types), 0)]),
    p_ts, p_types, p_subjects, p_data, p_channel, p_queue_changed);
end
$fn$`;
