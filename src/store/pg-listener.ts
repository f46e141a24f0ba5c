import pg from "pg";
import { backoff, noJitter } from "../core/backoff.ts";
import type { EventBus } from "./event-bus.ts";

/**
 * Wakes this process's event bus when another process commits events to the same PostgreSQL
 * database: every write transaction sends `NOTIFY gimo_events, '<seq>[:q]'` (delivered at commit),
 * and this dedicated connection LISTENs. When the connection drops (server restart,
 * pg_terminate_backend) it reconnects with backoff and wakes everyone once, so nothing waits on
 * a notification that was lost in between.
 */
export const NOTIFY_CHANNEL = "gimo_events";

export interface PgListener {
  close(): Promise<void>;
}

export function startPgListener(
  connectionString: string,
  bus: EventBus,
  onError: (e: unknown) => void,
): PgListener {
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
    c.on("notification", (msg) => {
      const [seq, flag] = (msg.payload ?? "").split(":");
      bus.notify(Number(seq) || 0, flag === "q");
    });
    c.on("error", (error) => {
      onError(error);
      retry(c);
    });
    try {
      await c.connect();
      await c.query(`listen ${NOTIFY_CHANNEL}`);
      client = c;
      failures = 0;
      bus.notify(0, true);
    } catch (error) {
      onError(error);
      retry(c);
    }
  };

  const retry = (c: pg.Client) => {
    if (client === c) client = undefined;
    c.end().catch(() => {});
    if (closed || timer) return;
    failures += 1;
    const wait = backoff(failures + 1, 100, 5_000, noJitter);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, wait);
  };

  void connect();
  return {
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  };
}
