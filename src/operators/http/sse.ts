import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { FeedBatch } from "../../app/event-feed.ts";
import type { Event } from "../../contract/event.ts";
import { EventStreamFrame, eventTypes, runTerminalEvents } from "../../contract/events.ts";
import { GimoError } from "../../core/errors.ts";
import { eventVisibleTo } from "../../core/event-visibility.ts";
import type { HttpDeps, HttpEnv } from "./env.ts";

/**
 * Streams the event log as Server-Sent Events. `id:` is the event seq; a client that reconnects
 * with `Last-Event-ID` (or `?after=`) gets everything after it, so nothing is lost however long
 * it was away. Without a resume point `/ops/events` starts at the head, and a
 * run's own stream starts with the run's history (its first event), so a watcher who comes late
 * still sees every line. A run's stream carries its log lines inside the `run.logs` event that
 * recorded them, so resuming by event seq never repeats or skips a line, and it ends after the
 * run's terminal event (`runTerminalEvents`) when no later event of the run follows (a requeue
 * reopens a run). A stream carries only the events its reader's role may see
 * (core/event-visibility), ends when the token that opened it is revoked or expires
 * (app/token-watch), and ends cleanly when the server stops (open-streams.ts). Every stream of
 * the process reads recent events from one shared feed (app/event-feed.ts: one query per commit
 * for all streams, each event's JSON written once), and the database only for what is older than
 * the feed holds; the feed wakes the streams. A comment line every 15 s keeps proxies from
 * closing an idle stream.
 */
const BATCH = 500;
const KEEPALIVE_MS = 15_000;

/** The OpenAPI answer of an event stream: its frames and every event type it may carry. */
export function eventStreamResponse(what: string) {
  return {
    description: `${what}: text/event-stream, one frame per event. Event types (the frame's \`event:\`): ${eventTypes.join(", ")}.`,
    content: { "text/event-stream": { schema: EventStreamFrame } },
  };
}

export interface StreamOptions {
  /** Only events about these ids. */
  subjects?: readonly string[];
  /** Without a resume point, start at the beginning of the log (a run's history), not at its head. */
  fromStart?: boolean;
  /** Replaces a `run.logs` event's seq range by the lines themselves (a run's own stream). */
  expandLogs?: (from: number, to: number) => Promise<unknown[]>;
  /**
   * Whether the stream is over once it has sent everything up to `seq`: asked at the start and
   * after each terminal event it sends (a run's stream: the run's last event is terminal).
   */
  endedAt?: (seq: number) => Promise<boolean>;
}

export async function streamEvents(c: Context<HttpEnv>, deps: HttpDeps, opts: StreamOptions) {
  const { audit, tokens } = deps.services;
  const { feed } = deps;
  const principal = c.get("principal");
  // Without a resume point the stream starts at the head (or the beginning), read before the
  // answer's headers go out: whatever commits after the client sees its 200 is on the stream.
  const resume = startSeq(c.req.header("last-event-id"), c.req.query("after"));
  const start = resume ?? (opts.fromStart ? 0 : await audit.headSeq());
  const terminal: ReadonlySet<string> = new Set(runTerminalEvents);
  const subjects = opts.subjects ? new Set(opts.subjects) : undefined;
  const wanted = (e: Event) =>
    eventVisibleTo(principal.role, e.type) && (subjects === undefined || subjects.has(e.subject));

  /** The next events after `after`: from the shared feed, or from the database when older. */
  const next = async (after: number): Promise<FeedBatch> => {
    const held = feed.read(after, BATCH);
    if (held) return { ...held, entries: held.entries.filter((entry) => wanted(entry.event)) };
    const head = await audit.headSeq();
    const read = await audit.feed(after, head, BATCH, { role: principal.role, subjects: opts.subjects });
    return { ...read, entries: read.events.map((event) => ({ event, json: JSON.stringify(event) })) };
  };

  const pump = async (stream: SSEStreamingApi, signal: AbortSignal) => {
    let scanned = start;
    let quietSince = Date.now();
    let askEnded = opts.endedAt !== undefined; // at the start: a resume past the run's end
    while (!signal.aborted) {
      const { entries, through, more } = await next(scanned);
      // A batch goes out in one write: with many streams, a write per event per stream was most
      // of the fan-out's cost.
      let frames = "";
      for (const { event, json } of entries) {
        if (signal.aborted) return;
        let data = json;
        if (opts.expandLogs && event.type === "run.logs") {
          const { from_seq, to_seq } = event.data as { from_seq: number; to_seq: number };
          data = JSON.stringify({ ...event, lines: await opts.expandLogs(from_seq, to_seq) });
        }
        frames += frame(event, data);
        if (terminal.has(event.type)) askEnded = opts.endedAt !== undefined;
      }
      if (frames !== "") await stream.write(frames);
      scanned = through;
      if (more) continue;
      if (askEnded && opts.endedAt && (await opts.endedAt(scanned))) return;
      askEnded = false;
      if (entries.length > 0) quietSince = Date.now();
      if (Date.now() - quietSince >= KEEPALIVE_MS) {
        await stream.write(": keepalive\n\n");
        quietSince = Date.now();
      }
      await feed.wait(scanned, KEEPALIVE_MS, signal);
    }
  };

  return streamSSE(c, async (stream) => {
    const left = new AbortController();
    stream.onAbort(() => left.abort());
    // The token that opened the stream is watched: revoked or expired, the stream ends.
    const watch = tokens.watch(principal);
    watch.signal.addEventListener("abort", () => left.abort(), { once: true });
    let release: (() => void) | undefined;
    try {
      release = await feed.hold();
      await deps.streams.track((signal) => pump(stream, signal), left.signal);
      if (watch.signal.aborted && !stream.closed) await stream.write(`: ${String(watch.signal.reason)}\n\n`);
    } catch (error) {
      // A read failed (the database restarting, a failover): the answer ends with a comment and
      // the client resumes with Last-Event-ID. Never hono's own `event: error` frame: it has no
      // id, so a client would take it for an event, and it would carry an internal message.
      // A client gone or a server stopping is the end of a stream, not an error.
      if (!stream.closed && !deps.streams.ending) {
        deps.logger.warn("event stream failed", {
          error: error instanceof Error ? error.message : String(error),
        });
        await stream.write(": the stream was interrupted; resume with Last-Event-ID\n\n").catch(() => {});
      }
    } finally {
      release?.();
      watch.stop();
    }
  });
}

/**
 * One SSE frame: `id:` the event's seq, `event:` its type, `data:` its JSON — one line, since JSON
 * escapes line breaks and catalogued type names have none.
 */
function frame(event: Event, json: string): string {
  return `event: ${event.type}\ndata: ${json}\nid: ${event.seq}\n\n`;
}

function startSeq(lastEventId: string | undefined, after: string | undefined): number | undefined {
  const raw = lastEventId ?? after;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new GimoError("validation_failed", "Last-Event-ID must be an event seq");
  return Number(raw);
}
