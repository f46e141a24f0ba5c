import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../src/contract/event.ts";
import { createGimo, listen } from "../src/gimo.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * `GET /ops/events` as an SSE client sees it over a real socket: frames parsed by hand from the
 * byte stream, `id:` = event seq, and `Last-Event-ID` / `?after=` resuming without loss or repeats.
 */
interface Frame {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

interface SseStream {
  status: number;
  contentType: string | null;
  correlationId: string | null;
  frames: Frame[];
  comments: string[];
  /** Resolves once `predicate(frames)` holds; fails after `timeoutMs`. */
  until(predicate: (frames: Frame[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function openStream(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const frames: Frame[] = [];
  const comments: string[] = [];
  const listeners = new Set<() => void>();
  let ended = false;
  const changed = () => {
    for (const listener of listeners) listener();
  };

  const pump = (async () => {
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let id: string | undefined;
    let event: string | undefined;
    let data: string[] = [];
    let touched = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let nl = buffer.search(/\r\n|\n|\r/); nl >= 0; nl = buffer.search(/\r\n|\n|\r/)) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(buffer.startsWith("\r\n", nl) ? nl + 2 : nl + 1);
          if (line === "") {
            if (touched) frames.push({ id, event, data: data.join("\n") });
            id = undefined;
            event = undefined;
            data = [];
            touched = false;
          } else if (line.startsWith(":")) {
            comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            let text = colon < 0 ? "" : line.slice(colon + 1);
            if (text.startsWith(" ")) text = text.slice(1);
            touched = true;
            if (field === "id") id = text;
            else if (field === "event") event = text;
            else if (field === "data") data.push(text);
          }
        }
        changed();
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
      changed();
    }
  })();

  return {
    status: res.status,
    correlationId: res.headers.get("x-correlation-id"),
    contentType: res.headers.get("content-type"),
    frames,
    comments,
    until(predicate, what, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(frames)) {
            cleanup();
            resolve();
          } else if (ended) {
            cleanup();
            reject(new Error(`stream ended before ${what}; got ids ${frames.map((f) => f.id).join(",")}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}; got ids ${frames.map((f) => f.id).join(",")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async close() {
      controller.abort();
      await pump;
    },
  };
}

const seqs = (frames: Frame[]) => frames.map((f) => Number(f.id));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const reaches = (seq: number) => (frames: Frame[]) => frames.some((f) => Number(f.id) >= seq);

describe.each(storageKinds())("the event stream on %s", (kind) => {
  let g: TestGimo;
  const open: SseStream[] = [];
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await g?.close();
  });

  const stream = async (
    query = "",
    headers: Record<string, string> = {},
    role: "actions" | "admin" = "actions",
  ) => {
    const s = await openStream(`${g.url}/ops/events${query}`, g.tokens[role], headers);
    open.push(s);
    return s;
  };

  const head = () => g.gimo.services.audit.headSeq();

  /** The log itself, for comparison: every event after `after`. */
  async function logAfter(after: number): Promise<Event[]> {
    const events: Event[] = [];
    let cursor: string | null = null;
    do {
      const res = await g.request("GET", `/ops/audit?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      events.push(...res.body.items);
      cursor = res.body.next_cursor;
    } while (cursor);
    return events.filter((e) => e.seq > after);
  }

  async function mutate(label: string) {
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: label, plan: samplePlan(label) },
    });
    expect(draft.status).toBe(201);
    return draft.body as { id: string; task_id: string };
  }

  /** Every frame is a well-formed event whose id is its seq and whose event name is its type. */
  function expectWellFormed(frames: Frame[]) {
    for (const frame of frames) {
      const event = JSON.parse(frame.data) as Event;
      expect(frame.id).toMatch(/^\d+$/);
      expect(event.seq).toBe(Number(frame.id));
      expect(frame.event).toBe(event.type);
    }
  }

  it("streams each new event live, id = seq, in order, identical to the log", async () => {
    const start = await head();
    const s = await stream("", { "x-correlation-id": "sse-trace-1" });
    expect(s.status).toBe(200);
    expect(s.contentType).toMatch(/^text\/event-stream/);
    expect(s.correlationId).toBe("sse-trace-1");
    const draft = await mutate("live one");
    await g.request("PUT", `/ops/drafts/${draft.id}`, { role: "operator", body: { prompt: "live edited" } });
    const approve = await g.request("POST", `/ops/drafts/${draft.id}/approve`, {
      role: "operator",
      body: { auto_run: true },
    });
    expect(approve.status).toBe(201);
    const end = await head();
    expect(end).toBeGreaterThan(start + 3);
    await s.until(reaches(end), `seq ${end}`);
    expect(seqs(s.frames)).toEqual(range(start + 1, end));
    expectWellFormed(s.frames);
    const log = await logAfter(start);
    expect(s.frames.map((f) => JSON.parse(f.data))).toEqual(log);
    const types = log.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["draft.created", "draft.edited", "draft.approved", "run.queued"]),
    );
  });

  it("starts at the head: a new stream replays nothing old", async () => {
    await mutate("before the stream");
    const start = await head();
    const s = await stream();
    await mutate("after the stream");
    const end = await head();
    await s.until(reaches(end), `seq ${end}`);
    expect(seqs(s.frames)).toEqual(range(start + 1, end));
  });

  it("resumes from Last-Event-ID with every missed event exactly once, in order", async () => {
    const start = await head();
    const first = await stream();
    await mutate("seen 1");
    await mutate("seen 2");
    const seen = await head();
    await first.until(reaches(seen), `seq ${seen}`);
    await first.close();
    const lastId = first.frames[first.frames.length - 1]?.id ?? "";
    expect(Number(lastId)).toBe(seen);
    expect(seqs(first.frames)).toEqual(range(start + 1, seen));

    // Away: more happens than fits in one breath.
    const missedDrafts: string[] = [];
    for (let i = 0; i < 5; i++) missedDrafts.push((await mutate(`missed ${i}`)).id);
    await g.request("POST", `/ops/drafts/${missedDrafts[0]}/reject`, {
      role: "operator",
      body: { reason: "no" },
    });
    const away = await head();
    expect(away).toBeGreaterThan(seen + 10);

    const second = await stream("", { "last-event-id": lastId });
    await second.until(reaches(away), `seq ${away}`);
    expect(seqs(second.frames)).toEqual(range(seen + 1, away));
    expectWellFormed(second.frames);
    const created = second.frames
      .filter((f) => f.event === "draft.created")
      .map((f) => (JSON.parse(f.data) as Event).subject);
    expect(created).toEqual(missedDrafts);

    // …and then carries on live.
    await mutate("live again");
    const end = await head();
    await second.until(reaches(end), `seq ${end}`);
    expect(seqs(second.frames)).toEqual(range(seen + 1, end));
    const union = [...seqs(first.frames), ...seqs(second.frames)];
    expect(union).toEqual(range(start + 1, end));
  });

  it("resumes from ?after=N, from the very beginning with ?after=0", async () => {
    await mutate("for after");
    const end = await head();
    const middle = Math.floor(end / 2);
    const fromMiddle = await stream(`?after=${middle}`);
    await fromMiddle.until(reaches(end), `seq ${end}`);
    expect(seqs(fromMiddle.frames)).toEqual(range(middle + 1, end));
    const fromStart = await stream("?after=0");
    await fromStart.until(reaches(end), `seq ${end}`);
    expect(seqs(fromStart.frames)).toEqual(range(1, end));
    expect(fromStart.frames.map((f) => JSON.parse(f.data))).toEqual(await logAfter(0));
    // Last-Event-ID wins over ?after when both are sent (it is what a reconnecting browser sends).
    const both = await stream(`?after=0`, { "last-event-id": String(end - 1) });
    await both.until(reaches(end), `seq ${end}`);
    expect(seqs(both.frames)).toEqual([end]);
  });

  it("replays a backlog larger than one read batch without loss", async () => {
    const start = await head();
    while ((await head()) - start < 1_100) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => mutate(`backlog ${i}`)));
    }
    const end = await head();
    const s = await stream(`?after=${start}`);
    await s.until(reaches(end), `seq ${end}`, 30_000);
    expect(seqs(s.frames)).toEqual(range(start + 1, end));
    const resumed = await stream("", { "last-event-id": String(start + 250) });
    await resumed.until(reaches(end), `seq ${end}`, 30_000);
    expect(seqs(resumed.frames)).toEqual(range(start + 251, end));
  });

  it("refuses a resume point that is not a seq, and strangers", async () => {
    const bad = await g.request("GET", "/ops/events", {
      role: "actions",
      headers: { "last-event-id": "abc" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    expect((await g.request("GET", "/ops/events?after=-1", { role: "actions" })).status).toBe(400);
    expect((await g.request("GET", "/ops/events?after=x", { role: "actions" })).status).toBe(400);
    expect((await g.request("GET", "/ops/events", { role: null })).status).toBe(401);
  });

  it("sees all of 30 concurrent mutations: strictly increasing seqs, no gaps", async () => {
    const start = await head();
    const s = await stream();
    const watcher = await stream(`?after=${start}`, {}, "admin");
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        g.request("POST", "/ops/drafts", {
          role: "operator",
          body: { prompt: `concurrent ${i}`, plan: samplePlan(`Concurrent ${i}`) },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(201));
    const end = await head();
    await s.until(reaches(end), `seq ${end}`);
    await watcher.until(reaches(end), `seq ${end}`);
    for (const frames of [s.frames, watcher.frames]) {
      expect(seqs(frames)).toEqual(range(start + 1, end));
      expectWellFormed(frames);
      const created = frames
        .filter((f) => f.event === "draft.created")
        .map((f) => (JSON.parse(f.data) as Event).subject)
        .sort();
      expect(created).toEqual(results.map((r) => r.body.id).sort());
    }
    // What streamed is exactly what the log holds.
    expect(s.frames.map((f) => JSON.parse(f.data))).toEqual(await logAfter(start));
    expect((await g.request("GET", "/ops/audit/verify")).body).toEqual({ ok: true, checked: end });
  });

  it.runIf(kind === "postgres")("streams what another replica on the same database writes", async () => {
    const replica = await createGimo(g.gimo.config, {});
    const server = await listen(replica);
    try {
      const start = await head();
      const s = await stream();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.url}/ops/drafts`, {
          method: "POST",
          headers: { authorization: `Bearer ${g.tokens.operator}`, "content-type": "application/json" },
          body: JSON.stringify({ prompt: `replica ${i}`, plan: samplePlan() }),
        });
        expect(res.status).toBe(201);
        ids.push(((await res.json()) as { id: string }).id);
      }
      const end = await head();
      await s.until(reaches(end), `seq ${end} from the other replica`, 5_000);
      expect(seqs(s.frames)).toEqual(range(start + 1, end));
      const created = s.frames
        .filter((f) => f.event === "draft.created")
        .map((f) => JSON.parse(f.data).subject);
      expect(created).toEqual(ids);
    } finally {
      await server.close();
      await replica.close();
    }
  });

  it("ends an answer whose read fails with a comment, never an `event: error` frame, and resumes", async () => {
    await mutate("before the failure");
    const end = await head();
    // A resume from the start reads the database (older than the shared feed holds); that read
    // fails once here, as it does while PostgreSQL restarts.
    const audit = g.gimo.services.audit;
    const read = audit.feed.bind(audit);
    let failures = 0;
    audit.feed = async (...args) => {
      if (failures++ === 0) throw new Error("Connection terminated unexpectedly at 10.0.0.7:5432");
      return read(...args);
    };
    try {
      const broken = await stream("?after=0");
      await broken.until(() => false, "the end", 5_000).catch(() => {});
      expect(broken.frames).toEqual([]);
      expect(broken.comments).toContain("the stream was interrupted; resume with Last-Event-ID");
      expect(broken.comments.join(" ")).not.toContain("10.0.0.7");
      const resumed = await stream("?after=0");
      await resumed.until(reaches(end), `seq ${end}`);
      expect(seqs(resumed.frames)).toEqual(range(1, Number(resumed.frames.at(-1)?.id)));
      expectWellFormed(resumed.frames);
    } finally {
      audit.feed = read;
    }
  });

  it("keeps several streams going while writes race with reconnections", async () => {
    const start = await head();
    const collected: number[] = [];
    let last = String(start);
    const writes = (async () => {
      for (let i = 0; i < 12; i++) await Promise.all([mutate(`race a${i}`), mutate(`race b${i}`)]);
    })();
    // Reconnect again and again while the writes go on, each time from the last id seen.
    for (let round = 0; round < 6; round++) {
      const s = await stream("", { "last-event-id": last });
      const target = Number(last) + 1;
      await s.until(reaches(target), `seq ${target}`, 2_000).catch(() => {});
      await s.close();
      collected.push(...seqs(s.frames));
      last = s.frames[s.frames.length - 1]?.id ?? last;
    }
    await writes;
    const end = await head();
    const tail = await stream("", { "last-event-id": last });
    await tail.until(reaches(end), `seq ${end}`);
    collected.push(...seqs(tail.frames));
    expect(collected).toEqual(range(start + 1, end));
  });
});
