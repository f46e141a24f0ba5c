import { fetchEventSource } from "@microsoft/fetch-event-source";
import { authHeaders } from "./client.ts";
import type { EventT } from "./types.ts";

/**
 * Server-Sent Events over `fetch`, so the bearer token travels in a header (the browser's
 * `EventSource` cannot send one). Each event's `id:` is its seq; after a dropped connection the
 * library reconnects with `Last-Event-ID: <last seq seen>` and the server replays everything after
 * it, so nothing is lost. A 401/403 stops the stream for good; the stream also stops when `signal`
 * aborts (the page went away) or when `isDone` says the subject has ended (a finished run's stream
 * closes after its terminal event).
 */
export interface StreamHandlers {
  onEvent(event: EventT & { lines?: unknown[] }): void;
  onOpen?(): void;
  onState?(state: "live" | "reconnecting" | "closed"): void;
  isDone?(): boolean;
}

class Fatal extends Error {}

export function openStream(path: string, signal: AbortSignal, handlers: StreamHandlers): void {
  void fetchEventSource(path, {
    signal,
    headers: authHeaders(),
    openWhenHidden: true,
    async onopen(res) {
      if (res.ok && res.headers.get("content-type")?.startsWith("text/event-stream")) {
        handlers.onState?.("live");
        handlers.onOpen?.();
        return;
      }
      if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 400)
        throw new Fatal();
      throw new Error(`stream answered ${res.status}`);
    },
    onmessage(msg) {
      if (!msg.data) return;
      try {
        handlers.onEvent(JSON.parse(msg.data));
      } catch {
        // A line that is not JSON is not ours to show.
      }
    },
    onclose() {
      if (handlers.isDone?.()) {
        handlers.onState?.("closed");
        throw new Fatal();
      }
      handlers.onState?.("reconnecting");
      throw new Error("stream closed; reconnecting");
    },
    onerror(error) {
      if (error instanceof Fatal) {
        handlers.onState?.("closed");
        throw error;
      }
      handlers.onState?.("reconnecting");
      return 1_000;
    },
  }).catch(() => {});
}
