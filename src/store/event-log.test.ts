import { Kysely } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { migrate } from "./database.ts";
import { appendEvents, hashEvent, verifyChain } from "./event-log.ts";
import { GENESIS_HASH } from "./migrations/0001_core.ts";
import type { Database, EventsTable } from "./schema.ts";
import { openSqlite } from "./sqlite-dialect.ts";

/**
 * The event log's own guards, one per row: what each field does to an event's hash, the append
 * (seqs, the head, well-formed text) and every way `verifyChain` names a break — an edited row,
 * a forged middle row with its hash recomputed, a row deleted, a tail cut off, a row written past
 * the head, a rewritten last row, and a recorded head that does not match. Each case breaks one
 * thing, so a verify that stopped checking any one of them fails its own row (StrykerJS runs this
 * file against event-log.ts: `npm run test:mutation`). An in-memory SQLite database, migrated.
 */
let db: Kysely<Database>;
const who = { actor: "adm_1", role: "admin" };
const notify = { channel: "gimo_events", queueChanged: false };

async function append(count: number, ts = "2026-12-04T00:00:00.000Z"): Promise<number> {
  return db.transaction().execute((tx) =>
    appendEvents(
      tx,
      "sqlite",
      who,
      ts,
      Array.from({ length: count }, (_, i) => ({ type: "task.created", subject: `t_${i}`, data: { i } })),
      notify,
    ),
  );
}

const row = (seq: number) =>
  db.selectFrom("events").selectAll().where("seq", "=", seq).executeTakeFirstOrThrow();
const head = () => db.selectFrom("event_head").select(["seq", "hash"]).executeTakeFirstOrThrow();

/** Rewrites event `seq` with `change`, its own hash recomputed (a forger who knows the scheme). */
async function forge(seq: number, change: Partial<EventsTable>): Promise<void> {
  const { hash: _old, ...rest } = { ...(await row(seq)), ...change };
  await db
    .updateTable("events")
    .set({ ...change, hash: hashEvent(rest) })
    .where("seq", "=", seq)
    .execute();
}

beforeAll(async () => {
  db = new Kysely<Database>({ dialect: openSqlite(":memory:") });
  await migrate(db);
});
afterAll(() => db.destroy());
beforeEach(async () => {
  await db.deleteFrom("events").execute();
  await db.deleteFrom("event_head").execute();
  await db.insertInto("event_head").values({ id: 1, seq: 0, hash: GENESIS_HASH }).execute();
});

describe("hashEvent", () => {
  const base = {
    seq: 1,
    ts: "2026-12-04T00:00:00.000Z",
    actor: "a",
    role: "admin",
    type: "task.created",
    subject: "t_1",
    data: "{}",
    prev_hash: GENESIS_HASH,
  };
  it("is a sha256 of every field", () => {
    expect(hashEvent(base)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hashEvent({ ...base })).toBe(hashEvent(base));
  });
  it.each([
    ["seq", 2],
    ["ts", "2026-12-04T00:00:00.001Z"],
    ["actor", "b"],
    ["role", "operator"],
    ["type", "task.status"],
    ["subject", "t_2"],
    ["data", '{"x":1}'],
    ["prev_hash", "sha256:0"],
  ])("changes when %s changes", (field, value) => {
    expect(hashEvent({ ...base, [field]: value })).not.toBe(hashEvent(base));
  });
});

describe("appendEvents", () => {
  it("numbers events from the head on, chains them and moves the head", async () => {
    expect(await append(3)).toBe(3);
    expect(await append(2)).toBe(5);
    const rows = await db.selectFrom("events").selectAll().orderBy("seq").execute();
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    for (const [i, r] of rows.entries()) {
      if (i > 0) expect(r.prev_hash).toBe(rows[i - 1]?.hash);
      const { hash, ...rest } = r;
      expect(hashEvent(rest)).toBe(hash);
    }
    expect(rows[4]).toMatchObject({ actor: "adm_1", role: "admin", type: "task.created", subject: "t_1" });
    expect(JSON.parse(rows[4]?.data ?? "")).toEqual({ i: 1 });
    expect(await head()).toEqual({ seq: 5, hash: rows[4]?.hash });
  });

  it("appends nothing, and moves nothing, for no events", async () => {
    await append(1);
    const before = await head();
    expect(await append(0)).toBe(-1);
    expect(await head()).toEqual(before);
  });

  it("stores and hashes text as it will be stored (a lone surrogate becomes U+FFFD)", async () => {
    await db
      .transaction()
      .execute((tx) =>
        appendEvents(
          tx,
          "sqlite",
          { actor: "a\uD800", role: "r\uDC00" },
          "2026-12-04T00:00:00.000Z",
          [{ type: "x\uD800", subject: "s\uDC00", data: {} }],
          notify,
        ),
      );
    expect(await row(1)).toMatchObject({
      actor: "a\uFFFD",
      role: "r\uFFFD",
      type: "x\uFFFD",
      subject: "s\uFFFD",
    });
    expect(await verifyChain(db)).toEqual({ ok: true, checked: 1 });
  });
});

describe("verifyChain", () => {
  it("passes an untouched chain, over several pages, and an empty one", async () => {
    expect(await verifyChain(db)).toEqual({ ok: true, checked: 0 });
    await append(5);
    expect(await verifyChain(db)).toEqual({ ok: true, checked: 5 });
    expect(await verifyChain(db, 2)).toEqual({ ok: true, checked: 5 });
    expect(await verifyChain(db, 5)).toEqual({ ok: true, checked: 5 });
    expect(await verifyChain(db, 1)).toEqual({ ok: true, checked: 5 });
  });

  it("shows every row it checked, in order", async () => {
    await append(3);
    const seen: number[] = [];
    await verifyChain(db, 2, { visit: (r) => seen.push(r.seq) });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("names an edited row", async () => {
    await append(5);
    await db.updateTable("events").set({ data: '{"i":99}' }).where("seq", "=", 3).execute();
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 2,
      broken_at: 3,
      reason: "event 3 was altered",
    });
  });

  it("names the row after a forged middle row whose hash was recomputed", async () => {
    await append(5);
    await forge(3, { data: '{"i":99}' });
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 3,
      broken_at: 4,
      reason: "event 4 does not follow its predecessor",
    });
  });

  it("names a first row that does not start from the genesis hash", async () => {
    await append(2);
    await forge(1, { prev_hash: "sha256:other" });
    expect(await verifyChain(db)).toMatchObject({ ok: false, checked: 0, broken_at: 1 });
  });

  it("names a deleted row, and a renumbered one", async () => {
    await append(5);
    await db.deleteFrom("events").where("seq", "=", 3).execute();
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 2,
      broken_at: 3,
      reason: "event 3 is missing",
    });
    await db.deleteFrom("events").where("seq", "=", 1).execute();
    expect(await verifyChain(db)).toMatchObject({
      ok: false,
      checked: 0,
      broken_at: 1,
      reason: "event 1 is missing",
    });
  });

  it("names a tail cut off behind the head", async () => {
    await append(5);
    await db.deleteFrom("events").where("seq", ">=", 4).execute();
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 3,
      broken_at: 4,
      reason: "events after 3 are missing",
    });
  });

  it("names a row written past the head", async () => {
    await append(5);
    const before = await head();
    await append(1);
    await db.updateTable("event_head").set(before).execute();
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 5,
      broken_at: 6,
      reason: "event 6 is past the head",
    });
  });

  it("names a rewritten last row", async () => {
    await append(5);
    await forge(5, { data: '{"i":99}' });
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 4,
      broken_at: 5,
      reason: "event 5 does not match the head",
    });
  });

  it("names a head moved back to cut the tail with it", async () => {
    await append(5);
    const third = await row(3);
    await db.deleteFrom("events").where("seq", ">", 3).execute();
    await db.updateTable("event_head").set({ seq: 3, hash: third.hash }).execute();
    expect(await verifyChain(db)).toEqual({ ok: true, checked: 3 }); // nothing remembers…
    const recorded = { seq: 5, hash: "sha256:recorded" };
    expect(await verifyChain(db, 2_000, { head: recorded })).toEqual({
      ok: false,
      checked: 3,
      broken_at: 4,
      reason: "the log ends at event 3, before the recorded head 5: events 4 to 5 were removed",
    });
  });

  it("checks the chain against a recorded head", async () => {
    await append(5);
    const third = await row(3);
    expect(await verifyChain(db, 2_000, { head: { seq: 3, hash: third.hash } })).toEqual({
      ok: true,
      checked: 5,
    });
    expect(await verifyChain(db, 2_000, { head: { seq: 5, hash: (await head()).hash } })).toEqual({
      ok: true,
      checked: 5,
    });
    expect(await verifyChain(db, 2_000, { head: { seq: 3, hash: "sha256:other" } })).toEqual({
      ok: false,
      checked: 2,
      broken_at: 3,
      reason: `event 3 is not the recorded head (its hash is ${third.hash}): the chain was rewritten up to it`,
    });
    expect(await verifyChain(db, 2_000, { head: { seq: 0, hash: GENESIS_HASH } })).toEqual({
      ok: true,
      checked: 5,
    });
    expect(await verifyChain(db, 2_000, { head: { seq: 0, hash: "sha256:other" } })).toEqual({
      ok: false,
      checked: 0,
      broken_at: 0,
      reason: "the recorded head 0 is not the start of the chain",
    });
  });

  it("names the missing head of an empty log", async () => {
    await db.deleteFrom("event_head").execute();
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 0,
      broken_at: 1,
      reason: "events after 0 are missing",
    });
  });

  it("names a head that does not match an empty log", async () => {
    await db.updateTable("event_head").set({ hash: "sha256:other" }).execute();
    expect(await verifyChain(db)).toEqual({
      ok: false,
      checked: 0,
      broken_at: 1,
      reason: "event 1 does not match the head",
    });
  });
});
