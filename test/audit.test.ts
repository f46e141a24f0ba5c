import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../src/contract/event.ts";
import { hashEvent } from "../src/store/event-log.ts";
import type { EventsTable } from "../src/store/schema.ts";
import { storageKinds } from "./support/databases.ts";
import { emitUncatalogued, samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * The audit trail: an append-only, hash-chained event log. Tampering with the database behind
 * GIMO's back (editing, deleting, reordering or truncating rows) must be named by
 * `/ops/audit/verify`; every mutation writes its events in its own transaction.
 */
describe.each(storageKinds())("the audit log on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind, {}, { uncatalogued: ["test.hostile", "test.second"] });
    // Some history to audit: drafts, edits, approvals with and without runs, a rejection, a token.
    for (let i = 0; i < 4; i++) {
      const draft = await newDraft(`history ${i}`);
      await g.request("PUT", `/ops/drafts/${draft.id}`, {
        role: "operator",
        body: { prompt: `edited ${i}` },
      });
      if (i % 2 === 0) {
        await g.request("POST", `/ops/drafts/${draft.id}/approve`, {
          role: "operator",
          body: { auto_run: i === 0 },
        });
      } else {
        await g.request("POST", `/ops/drafts/${draft.id}/reject`, {
          role: "operator",
          body: { reason: "no" },
        });
      }
    }
    expect(
      (await g.request("POST", "/ops/tokens", { body: { name: "audit-bot", role: "actions" } })).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await g?.close();
  });

  const db = () => g.gimo.services.ctx.store.db;

  async function newDraft(prompt = "validate stock") {
    const res = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt, plan: samplePlan() },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function verify() {
    const res = await g.request("GET", "/ops/audit/verify");
    expect(res.status).toBe(200);
    return res.body as { ok: boolean; checked: number; broken_at?: number; reason?: string };
  }

  /** Every event, walking the pages. */
  async function allEvents(query = "", limit = 200): Promise<Event[]> {
    const events: Event[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 1_000; pages++) {
      const sep = query ? "&" : "";
      const path = `/ops/audit?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await g.request("GET", path);
      expect(res.status).toBe(200);
      events.push(...res.body.items);
      cursor = res.body.next_cursor;
      if (!cursor) return events;
    }
    throw new Error("pagination never ended");
  }

  async function rows(): Promise<EventsTable[]> {
    return db().selectFrom("events").selectAll().orderBy("seq").execute();
  }

  async function headSeq(): Promise<number> {
    const head = await db()
      .selectFrom("event_head")
      .select("seq")
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return head.seq;
  }

  it("verifies an untouched chain and counts every event", async () => {
    const all = await rows();
    expect(all.length).toBeGreaterThan(20);
    const result = await verify();
    expect(result).toEqual({ ok: true, checked: all.length });
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    expect(await headSeq()).toBe(all.length);
  });

  it("names the one event whose data was edited, and is whole again once it is restored", async () => {
    const all = await rows();
    const k = all[Math.floor(all.length / 2)] as EventsTable;
    const altered = JSON.stringify({ ...JSON.parse(k.data), tampered: true });
    await db().updateTable("events").set({ data: altered }).where("seq", "=", k.seq).execute();
    try {
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.broken_at).toBe(k.seq);
      expect(broken.checked).toBe(k.seq - 1);
    } finally {
      await db().updateTable("events").set({ data: k.data }).where("seq", "=", k.seq).execute();
    }
    expect(await verify()).toEqual({ ok: true, checked: all.length });
  });

  it("chains hostile text exactly as hashEvent does (PostgreSQL hashes inside gimo_append_events)", async () => {
    const hostile = 'q"\\ \u0000\u0007\b\f\n\r\t \u2028\u2029 é中😀 \ud800 \u007f </script>';
    const who = {
      actor: `bot ${hostile}`.replaceAll("\u0000", ""),
      role: "operator" as const,
      tokenId: null,
    };
    await g.gimo.services.ctx.store.write(who, async (w) => {
      emitUncatalogued(w, "test.hostile", `subject ${hostile}`.replaceAll("\u0000", ""), {
        text: hostile,
        n: [1.5, -0, 1e21],
      });
      emitUncatalogued(w, "test.second", "s2", { nested: { b: 1, a: [hostile] } });
    });
    const written = (await rows()).slice(-2);
    for (const row of written) {
      const { hash, ...rest } = row;
      expect(hashEvent({ ...rest, seq: Number(rest.seq) })).toBe(hash);
    }
    expect((await verify()).ok).toBe(true);
  });

  it("names an edit of any single field, the first and the last event included", async () => {
    const all = await rows();
    const first = all[0] as EventsTable;
    const last = all[all.length - 1] as EventsTable;
    const cases: [EventsTable, Partial<EventsTable>][] = [
      [first, { actor: "env:nobody" }],
      [all[3] as EventsTable, { type: "draft.approved" }],
      [all[5] as EventsTable, { role: "admin" }],
      [all[7] as EventsTable, { ts: "2001-01-01T00:00:00.000Z" }],
      [all[9] as EventsTable, { subject: "d_01JD0000000000000000000000" }],
      [last, { data: "{}" }],
    ];
    for (const [row, change] of cases) {
      await db().updateTable("events").set(change).where("seq", "=", row.seq).execute();
      try {
        const broken = await verify();
        expect({ change, ok: broken.ok, broken_at: broken.broken_at }).toEqual({
          change,
          ok: false,
          broken_at: row.seq,
        });
      } finally {
        const { seq: _seq, ...original } = row;
        await db().updateTable("events").set(original).where("seq", "=", row.seq).execute();
      }
    }
    expect((await verify()).ok).toBe(true);
  });

  it("names a deleted middle event", async () => {
    const all = await rows();
    const k = all[Math.floor(all.length / 3)] as EventsTable;
    await db().deleteFrom("events").where("seq", "=", k.seq).execute();
    try {
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.broken_at).toBe(k.seq);
    } finally {
      await db().insertInto("events").values(k).execute();
    }
    expect((await verify()).ok).toBe(true);
  });

  it("names the first of two events whose contents were swapped", async () => {
    const all = await rows();
    const i = Math.floor(all.length / 2);
    const a = all[i] as EventsTable;
    const b = all[i + 1] as EventsTable;
    const { seq: _a, ...aContent } = a;
    const { seq: _b, ...bContent } = b;
    await db().updateTable("events").set(bContent).where("seq", "=", a.seq).execute();
    await db().updateTable("events").set(aContent).where("seq", "=", b.seq).execute();
    try {
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.broken_at).toBe(a.seq);
    } finally {
      await db().updateTable("events").set(aContent).where("seq", "=", a.seq).execute();
      await db().updateTable("events").set(bContent).where("seq", "=", b.seq).execute();
    }
    expect((await verify()).ok).toBe(true);
  });

  it("names events that were renumbered into another order", async () => {
    const all = await rows();
    const a = all[4] as EventsTable;
    const b = all[6] as EventsTable;
    // Swap the seqs (the ordering key) but keep each row's own content and hashes.
    await db().updateTable("events").set({ seq: -1 }).where("seq", "=", a.seq).execute();
    await db().updateTable("events").set({ seq: a.seq }).where("seq", "=", b.seq).execute();
    await db().updateTable("events").set({ seq: b.seq }).where("seq", "=", -1).execute();
    try {
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.broken_at).toBe(a.seq);
    } finally {
      await db().updateTable("events").set({ seq: -1 }).where("seq", "=", a.seq).execute();
      await db().updateTable("events").set({ seq: a.seq }).where("seq", "=", b.seq).execute();
      await db().updateTable("events").set({ seq: b.seq }).where("seq", "=", -1).execute();
    }
    expect((await verify()).ok).toBe(true);
  });

  it("gives the same verdict whatever page size the walk reads in", async () => {
    const { verifyChain } = await import("../src/store/event-log.ts");
    const all = await rows();
    for (const pageSize of [1, 2, 3, 5, all.length, all.length + 1]) {
      expect(await verifyChain(db(), pageSize)).toEqual({ ok: true, checked: all.length });
    }
    const k = all[10] as EventsTable;
    await db().deleteFrom("events").where("seq", "=", k.seq).execute();
    try {
      for (const pageSize of [1, 2, 3, 5, 10, 11]) {
        const verdict = await verifyChain(db(), pageSize);
        expect({ pageSize, broken_at: verdict.broken_at }).toEqual({ pageSize, broken_at: k.seq });
      }
    } finally {
      await db().insertInto("events").values(k).execute();
    }
  });

  it("notices when only the last event was deleted", async () => {
    const all = await rows();
    const last = all[all.length - 1] as EventsTable;
    await db().deleteFrom("events").where("seq", "=", last.seq).execute();
    try {
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.broken_at).toBe(last.seq);
      expect(broken.checked).toBe(last.seq - 1);
    } finally {
      await db().insertInto("events").values(last).execute();
    }
    expect(await verify()).toEqual({ ok: true, checked: all.length });
  });

  it("notices the last event rewritten with a matching hash of its own", async () => {
    const { hashEvent } = await import("../src/store/event-log.ts");
    const all = await rows();
    const last = all[all.length - 1] as EventsTable;
    const { hash: _hash, ...rest } = last;
    const forged = { ...rest, data: JSON.stringify({ forged: true }) };
    await db()
      .updateTable("events")
      .set({ data: forged.data, hash: hashEvent(forged) })
      .where("seq", "=", last.seq)
      .execute();
    try {
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.broken_at).toBe(last.seq);
    } finally {
      await db()
        .updateTable("events")
        .set({ data: last.data, hash: last.hash })
        .where("seq", "=", last.seq)
        .execute();
    }
    expect((await verify()).ok).toBe(true);
  });

  it("notices an event appended behind the log's back", async () => {
    const { hashEvent } = await import("../src/store/event-log.ts");
    const all = await rows();
    const last = all[all.length - 1] as EventsTable;
    const extra = {
      seq: last.seq + 1,
      ts: last.ts,
      actor: "env:admin",
      role: "admin",
      type: "token.created",
      subject: "tk_forged",
      data: "{}",
      prev_hash: last.hash,
    };
    await db()
      .insertInto("events")
      .values({ ...extra, hash: hashEvent(extra) })
      .execute();
    try {
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.broken_at).toBe(extra.seq);
    } finally {
      await db().deleteFrom("events").where("seq", "=", extra.seq).execute();
    }
    expect((await verify()).ok).toBe(true);
  });

  it("appends a mutation's events in its own transaction, and nothing for a refused one", async () => {
    const draft = await newDraft("audited approval");
    const created = await allEvents(`subject=${draft.id}`);
    expect(created.map((e) => e.type)).toEqual(["draft.created"]);
    expect(created[0]).toMatchObject({ actor: "env:operator", role: "operator", subject: draft.id });
    expect(created[0]?.data).toMatchObject({ task_id: draft.task_id, rev: 1 });

    const before = await headSeq();
    const approve = await g.request("POST", `/ops/drafts/${draft.id}/approve`, {
      role: "admin",
      body: { auto_run: true },
    });
    expect(approve.status).toBe(201);
    const runId = approve.body.run.id;
    const after = await headSeq();
    const written = (await allEvents()).filter((e) => e.seq > before);
    expect(written.map((e) => e.seq)).toEqual(
      Array.from({ length: after - before }, (_, i) => before + 1 + i),
    );
    // One unit of work: the same actor, role and instant for all of it.
    expect(new Set(written.map((e) => `${e.actor}|${e.role}|${e.ts}`))).toEqual(
      new Set([`env:admin|admin|${written[0]?.ts}`]),
    );
    const types = written.map((e) => e.type);
    expect(types).toContain("draft.approved");
    expect(types).toContain("run.queued");
    expect(types.indexOf("draft.approved")).toBeLessThan(types.indexOf("run.queued"));

    const approvedEvents = await allEvents(`subject=${draft.id}&type=draft.approved`);
    expect(approvedEvents).toHaveLength(1);
    expect(approvedEvents[0]?.data).toMatchObject({
      approved_id: approve.body.approved.id,
      content_hash: approve.body.approved.content_hash,
      auto_run: true,
    });
    const runEvents = await allEvents(`subject=${runId}`);
    expect(runEvents.map((e) => e.type)).toEqual(["run.queued"]);
    expect(runEvents[0]).toMatchObject({ actor: "env:admin", role: "admin" });

    // Refused mutations leave no trace in the log.
    const again = await g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "operator", body: {} });
    expect(again.status).toBe(409);
    const noPlan = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "idea only" },
    });
    const headBeforeRefusals = await headSeq();
    const unprocessable = await g.request("POST", `/ops/drafts/${noPlan.body.id}/approve`, {
      role: "operator",
    });
    expect(unprocessable.status).toBe(422);
    const cancelTwice = await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" });
    expect(cancelTwice.status).toBe(200);
    const headAfterCancel = await headSeq();
    expect((await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" })).status).toBe(409);
    expect(
      (await g.request("POST", "/ops/tokens", { body: { name: "audit-bot", role: "actions" } })).status,
    ).toBe(409);
    expect(await headSeq()).toBe(headAfterCancel);
    expect(headAfterCancel).toBeGreaterThan(headBeforeRefusals);
    expect(await allEvents(`subject=${draft.id}&type=draft.approved`)).toHaveLength(1);
    expect((await allEvents(`subject=${noPlan.body.id}`)).map((e) => e.type)).toEqual(["draft.created"]);
    expect((await allEvents(`subject=${runId}`)).map((e) => e.type)).toEqual(["run.queued", "run.cancelled"]);
    expect(await verify()).toEqual({ ok: true, checked: await headSeq() });
  });

  it("an approval without auto_run queues no run", async () => {
    const draft = await newDraft("approval without a run");
    const before = await headSeq();
    const approve = await g.request("POST", `/ops/drafts/${draft.id}/approve`, {
      role: "operator",
      body: { auto_run: false },
    });
    expect(approve.status).toBe(201);
    const types = (await allEvents()).filter((e) => e.seq > before).map((e) => e.type);
    expect(types).toContain("draft.approved");
    expect(types).not.toContain("run.queued");
  });

  it("pages through the log with limit and cursor: every event once, in seq order", async () => {
    const head = await headSeq();
    for (const limit of [1, 3, 7, 200]) {
      const events = await allEvents("", limit);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    }
    const firstPage = await g.request("GET", "/ops/audit?limit=5");
    expect(firstPage.body.items).toHaveLength(5);
    expect(firstPage.body.next_cursor).toEqual(expect.any(String));
    const lastPage = await g.request("GET", `/ops/audit?limit=${head}`);
    expect(lastPage.body.items).toHaveLength(head);
    expect(lastPage.body.next_cursor).toBeNull();

    // Filters page too, and each event links to the one before it.
    const drafts = await allEvents("type=draft.created", 2);
    const direct = (await rows()).filter((r) => r.type === "draft.created").map((r) => r.seq);
    expect(drafts.map((e) => e.seq)).toEqual(direct);
    const full = await allEvents("", 50);
    for (let i = 1; i < full.length; i++) expect(full[i]?.prev_hash).toBe(full[i - 1]?.hash);
    expect(typeof full[0]?.data).toBe("object");

    expect((await g.request("GET", "/ops/audit?cursor=not-a-cursor")).status).toBe(400);
    expect((await g.request("GET", "/ops/audit?limit=0")).status).toBe(400);
    expect((await g.request("GET", "/ops/audit?limit=201")).status).toBe(400);
  });

  /** The rows from `from` on, as they are now (to put back after a test rewrote them). */
  async function saveTail(from: number) {
    const saved = (await rows()).filter((r) => r.seq >= from);
    const head = await db()
      .selectFrom("event_head")
      .selectAll()
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return async () => {
      await db().deleteFrom("events").where("seq", ">=", from).execute();
      for (const row of saved) await db().insertInto("events").values(row).execute();
      await db()
        .updateTable("event_head")
        .set({ seq: head.seq, hash: head.hash })
        .where("id", "=", 1)
        .execute();
    };
  }

  it("answers the head to record elsewhere, and verify proves a recorded head is still in the chain", async () => {
    const head = await g.request("GET", "/ops/audit/head");
    expect(head.status).toBe(200);
    const last = (await rows()).at(-1) as EventsTable;
    expect(head.body).toEqual({ seq: last.seq, hash: last.hash });
    const anchored = await g.request("GET", `/ops/audit/verify?head=${head.body.seq}:${head.body.hash}`);
    expect(anchored.body).toEqual({ ok: true, checked: last.seq });
    // Later events do not disturb an older anchor.
    await newDraft("after the anchor");
    const later = await g.request("GET", `/ops/audit/verify?head=${head.body.seq}:${head.body.hash}`);
    expect(later.body).toEqual({ ok: true, checked: await headSeq() });
    for (const bad of [
      "1",
      "x:y",
      `${head.body.seq}:sha256:zz`,
      `-1:${head.body.hash}`,
      `${head.body.seq}:${head.body.hash}x`,
    ]) {
      const res = await g.request("GET", `/ops/audit/verify?head=${encodeURIComponent(bad)}`);
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
  });

  it("a truncated tail with event_head moved back passes a plain verify but not a recorded head", async () => {
    const recorded = (await g.request("GET", "/ops/audit/head")).body as { seq: number; hash: string };
    const all = await rows();
    const keep = all[all.length - 4] as EventsTable;
    const restore = await saveTail(keep.seq + 1);
    await db().deleteFrom("events").where("seq", ">", keep.seq).execute();
    await db()
      .updateTable("event_head")
      .set({ seq: keep.seq, hash: keep.hash })
      .where("id", "=", 1)
      .execute();
    try {
      // Without an anchor the shorter chain is whole: that is what the head is for.
      expect(await verify()).toEqual({ ok: true, checked: keep.seq });
      const res = await g.request("GET", `/ops/audit/verify?head=${recorded.seq}:${recorded.hash}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: false, checked: keep.seq, broken_at: keep.seq + 1 });
      expect(res.body.reason).toMatch(new RegExp(`ends at event ${keep.seq}.*recorded head ${recorded.seq}`));
    } finally {
      await restore();
    }
    expect(await verify()).toEqual({ ok: true, checked: all.length });
  });

  it("a chain rewritten from an event on, hashes recomputed, fails against a recorded head", async () => {
    const recorded = (await g.request("GET", "/ops/audit/head")).body as { seq: number; hash: string };
    const all = await rows();
    const from = all[Math.floor(all.length / 2)] as EventsTable;
    const restore = await saveTail(from.seq);
    let prev = from.prev_hash;
    for (const row of all.filter((r) => r.seq >= from.seq)) {
      const data =
        row.seq === from.seq ? JSON.stringify({ ...JSON.parse(row.data), rewritten: true }) : row.data;
      const { hash: _old, ...rest } = { ...row, data, prev_hash: prev };
      const hash = hashEvent(rest);
      await db()
        .updateTable("events")
        .set({ data, prev_hash: prev, hash })
        .where("seq", "=", row.seq)
        .execute();
      prev = hash;
    }
    await db().updateTable("event_head").set({ hash: prev }).where("id", "=", 1).execute();
    try {
      expect((await verify()).ok).toBe(true);
      const res = await g.request("GET", `/ops/audit/verify?head=${recorded.seq}:${recorded.hash}`);
      expect(res.body).toMatchObject({ ok: false, broken_at: recorded.seq, checked: recorded.seq - 1 });
      expect(res.body.reason).toMatch(/recorded head/);
    } finally {
      await restore();
    }
    expect(await verify()).toEqual({ ok: true, checked: all.length });
  });

  it("is for admins only", async () => {
    for (const role of ["operator", "actions", "runner"] as const) {
      expect((await g.request("GET", "/ops/audit", { role })).status).toBe(403);
      expect((await g.request("GET", "/ops/audit/verify", { role })).status).toBe(403);
      expect((await g.request("GET", "/ops/audit/head", { role })).status).toBe(403);
    }
    expect((await g.request("GET", "/ops/audit/head", { role: null })).status).toBe(401);
    expect((await g.request("GET", "/ops/audit/verify", { role: null })).status).toBe(401);
  });
});
