import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventFeed, type EventLogTail, type FeedBatch } from "../src/app/event-feed.ts";
import type { Event } from "../src/contract/event.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { eventually } from "./support/runs.ts";

/**
 * The shared event feed (src/app/event-feed.ts) over a real event log: what it hands out from
 * memory is exactly the log's tail — in order, without gaps or repeats, each event's JSON the
 * event — across batch and window boundaries; it says "read the database" for anything older than
 * it holds; it wakes waiters on a commit; it keeps reading through failed reads; and it reads only
 * while held. A small window and batch put the boundaries within a few dozen events.
 */
describe.each(storageKinds())("the shared event feed on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  const audit = () => g.gimo.services.audit;
  const bus = () => g.gimo.services.ctx.store.bus;
  const newFeed = (log: EventLogTail = audit(), window = 10) =>
    new EventFeed(log, bus(), g.gimo.logger, { window, batch: 7, pollMs: 200 });
  const mutate = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await g.request("POST", "/ops/drafts", {
        role: "operator",
        body: { prompt: `feed ${i}`, plan: samplePlan(`feed ${i}`) },
      });
      expect(res.status).toBe(201);
    }
  };
  const logBetween = async (after: number, upTo: number): Promise<Event[]> =>
    (await audit().tail(after, upTo, 100_000)).events;
  /** Everything the feed hands out after `after`, batch by batch, up to what it has read. */
  const drain = (feed: EventFeed, after: number): { entries: FeedBatch["entries"]; through: number } => {
    const entries: FeedBatch["entries"] = [];
    let through = after;
    for (;;) {
      const batch = feed.read(through, 4);
      if (!batch) throw new Error(`the feed no longer holds what follows ${through}`);
      entries.push(...batch.entries);
      through = batch.through;
      if (!batch.more) return { entries, through };
    }
  };

  it("hands out the log's tail from memory: in order, gap-free, each event's JSON the event", async () => {
    const feed = newFeed(audit(), 100);
    const release = await feed.hold();
    try {
      const start = feed.scanned;
      expect(start).toBe(await audit().headSeq()); // from idle it starts at the head
      expect(feed.read(start, 4)).toEqual({ entries: [], through: start, more: false });
      await mutate(6);
      const head = await audit().headSeq();
      await eventually(async () => feed.scanned >= head, 5_000, 20);
      const { entries, through } = drain(feed, start);
      expect(through).toBe(head);
      expect(entries.map((e) => e.event)).toEqual(await logBetween(start, head));
      for (const { event, json } of entries) expect(JSON.parse(json)).toEqual(event);
      // from the middle: exactly what follows
      const middle = start + 3;
      expect(drain(feed, middle).entries.map((e) => e.event.seq)).toEqual(
        (await logBetween(middle, head)).map((e) => e.seq),
      );
    } finally {
      release();
    }
  });

  it("keeps only its window: older resume points read the database, newer ones stay gap-free", async () => {
    const feed = newFeed(audit(), 10);
    const release = await feed.hold();
    try {
      const start = feed.scanned;
      await mutate(12); // more events than twice the window: the feed trims
      const head = await audit().headSeq();
      await eventually(async () => feed.scanned >= head, 5_000, 20);
      expect(feed.read(start, 4)).toBeUndefined();
      // the oldest point it still serves, found by walking back from the head
      let oldest = head;
      while (oldest > start && feed.read(oldest - 1, 4) !== undefined) oldest -= 1;
      expect(head - oldest).toBeGreaterThanOrEqual(10);
      expect(drain(feed, oldest).entries.map((e) => e.event)).toEqual(await logBetween(oldest, head));
    } finally {
      release();
    }
  });

  it("wakes a waiter when an event commits, and lets it go on timeout or abort", async () => {
    const feed = newFeed();
    const release = await feed.hold();
    try {
      const at = feed.scanned;
      const woken = feed.wait(at, 30_000, new AbortController().signal);
      await mutate(1);
      await woken;
      await eventually(async () => feed.scanned > at, 5_000, 20);
      const t0 = Date.now();
      await feed.wait(feed.scanned, 50, new AbortController().signal);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
      const abort = new AbortController();
      const aborted = feed.wait(feed.scanned, 30_000, abort.signal);
      abort.abort();
      await aborted;
    } finally {
      release();
    }
  });

  it("reads nothing between commits, whatever its poll interval (one process: Infinity)", async () => {
    let reads = 0;
    const counting: EventLogTail = {
      headSeq: () => {
        reads += 1;
        return audit().headSeq();
      },
      tail: (after, upTo, limit) => audit().tail(after, upTo, limit),
    };
    const feed = new EventFeed(counting, bus(), g.gimo.logger, { pollMs: Number.POSITIVE_INFINITY });
    const release = await feed.hold();
    try {
      await new Promise((r) => setTimeout(r, 300)); // an absence check: no commit, no read
      expect(reads).toBeLessThanOrEqual(2);
      await mutate(1);
      const head = await audit().headSeq();
      await eventually(async () => feed.scanned >= head, 5_000, 20);
    } finally {
      release();
    }
  });

  it("keeps reading after failed reads (the database away), and reads only while held", async () => {
    let failing = 0;
    let reads = 0;
    const flaky: EventLogTail = {
      headSeq: () => audit().headSeq(),
      tail: async (after, upTo, limit) => {
        reads += 1;
        if (failing > 0) {
          failing -= 1;
          throw new Error("Connection terminated unexpectedly");
        }
        return audit().tail(after, upTo, limit);
      },
    };
    const feed = newFeed(flaky, 100);
    const release = await feed.hold();
    const start = feed.scanned;
    failing = 3;
    await mutate(2);
    const head = await audit().headSeq();
    await eventually(async () => feed.scanned >= head, 10_000, 20);
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(drain(feed, start).entries.map((e) => e.event)).toEqual(await logBetween(start, head));
    expect(g.logs.some((l) => l.includes("event feed: reading the event log failed"))).toBe(true);

    // let go: it stops reading; held again, it starts over at the head
    release();
    const idleReads = reads;
    await mutate(2);
    await new Promise((r) => setTimeout(r, 400)); // two poll intervals: an absence check
    expect(reads).toBe(idleReads);
    const again = await feed.hold();
    expect(feed.scanned).toBe(await audit().headSeq());
    expect(feed.read(start, 4)).toBeUndefined();
    again();
    await feed.close();
  });
});
