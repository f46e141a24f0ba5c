import { createParser, type EventSourceMessage } from "eventsource-parser";
import { backoff } from "../core/backoff.ts";
import { errorFrom, type FetchLike, GimoClientError } from "./http.ts";

/**
 * Server-Sent Events with resume. GIMO numbers every event (`id:` is the event's seq); this reader
 * remembers the last one it handed out and, when the connection drops or the server ends the
 * response early, reconnects with `Last-Event-ID` after a jittered, growing pause — so a reader sees
 * every event once, in order, however often the network breaks. It ends when `until` says an event
 * was the last one wanted (a run's terminal event), when `signal` aborts, or with the error when the
 * server refuses (4xx other than 429) or `maxRetries` reconnections in a row failed.
 *
 * States: connecting → streaming → (dropped → waiting → connecting)* → done.
 */
export interface SseMessage {
  id: number | undefined;
  event: string;
  data: unknown;
}

export interface SubscribeOptions {
  /** Resume after this event seq (sent as Last-Event-ID); absent: the server's default start. */
  after?: number;
  signal?: AbortSignal;
  /** True for the last event wanted: the subscription ends right after yielding it. */
  until?: (message: SseMessage) => boolean;
  /** Reconnections in a row before giving up (default 8). */
  maxRetries?: number;
  /** First pause before reconnecting, doubled each time up to 5 s (default 250 ms). */
  retryBaseMs?: number;
}

export async function* subscribe(
  fetch: FetchLike,
  url: string,
  token: string,
  opts: SubscribeOptions = {},
): AsyncGenerator<SseMessage, void, undefined> {
  let last = opts.after;
  let failures = 0;
  const maxRetries = opts.maxRetries ?? 8;
  const base = opts.retryBaseMs ?? 250;
  while (!opts.signal?.aborted) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "text/event-stream" };
    if (last !== undefined) headers["last-event-id"] = String(last);
    try {
      const res = await fetch(url, { headers, signal: opts.signal });
      if (res.status >= 400) {
        const body = await res.json().catch(() => undefined);
        throw errorFrom(res.status, body);
      }
      if (!res.body) throw new Error("the event stream has no body");
      failures = 0;
      for await (const message of messages(res.body)) {
        // A frame without an id is no event of the log: an `event: error` one (an older server's,
        // or a proxy's) ends this answer, and the subscription resumes after the last event.
        if (message.id === undefined && message.event === "error") break;
        if (message.id !== undefined) last = message.id;
        yield message;
        if (opts.until?.(message)) return;
      }
      // The server ended the response without the last wanted event (a restart, a proxy): resume.
    } catch (error) {
      if (opts.signal?.aborted) return;
      if (error instanceof GimoClientError && error.status < 500 && error.status !== 429) throw error;
      failures += 1;
      if (failures > maxRetries) throw error;
    }
    await sleep(backoff(failures + 1, base, 5_000), opts.signal);
  }
}

/** The messages of one response body, parsed as they arrive. */
async function* messages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const queue: SseMessage[] = [];
  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      let data: unknown = event.data;
      try {
        data = JSON.parse(event.data);
      } catch {
        // not JSON: handed over as text
      }
      const id = event.id !== undefined && /^\d+$/.test(event.id) ? Number(event.id) : undefined;
      queue.push({ id, event: event.event ?? "message", data });
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length > 0) yield queue.shift() as SseMessage;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}
