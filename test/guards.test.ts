import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventsTable } from "../src/store/schema.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { queueRuns } from "./support/runs.ts";

/**
 * One test per guard, where the code has two guards and the older suites only ever exercised
 * both at once. Each test defeats exactly one condition: with only that condition gone, it fails.
 * Refusals are checked by `error.code`, not only by status, so a refusal that happens for the
 * wrong reason (a unique constraint instead of the state machine) does not pass.
 */
describe.each(storageKinds())("single guards on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  const newDraft = async (prompt = "validate stock", taskId?: string) => {
    const res = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt, plan: samplePlan(), ...(taskId ? { task_id: taskId } : {}) },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; task_id: string };
  };
  const approve = (id: string) =>
    g.request("POST", `/ops/drafts/${id}/approve`, { role: "operator", body: { auto_run: false } });

  describe("the approval compare-and-swap (status must be draft)", () => {
    it("refuses a rejected draft as an illegal transition", async () => {
      const draft = await newDraft();
      const rejected = await g.request("POST", `/ops/drafts/${draft.id}/reject`, {
        role: "operator",
        body: { reason: "no" },
      });
      expect(rejected.status).toBe(200);
      const res = await approve(draft.id);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("illegal_transition");
      const approved = await g.request("GET", `/ops/approved?task=${draft.task_id}`, { role: "actions" });
      expect(approved.body.items).toHaveLength(0);
    });

    it("refuses a superseded draft as an illegal transition, and the newer revision still approves", async () => {
      const first = await newDraft();
      const second = await newDraft("second try", first.task_id);
      const stale = await approve(first.id);
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe("illegal_transition");
      const fresh = await approve(second.id);
      expect(fresh.status).toBe(201);
      expect(fresh.body.approved.draft_id).toBe(second.id);
    });

    it("every loser of a 30-way race is refused by the state machine, not by a constraint", async () => {
      const draft = await newDraft();
      const results = await Promise.all(Array.from({ length: 30 }, () => approve(draft.id)));
      const losers = results.filter((r) => r.status !== 201);
      expect(results.length - losers.length).toBe(1);
      expect(losers.map((r) => `${r.status} ${r.body.error.code}`)).toEqual(
        losers.map(() => "409 illegal_transition"),
      );
    });
  });

  describe("the runner fence (runner identity and attempt, each on its own)", () => {
    const register = async (name: string) => {
      const res = await g.request("POST", "/ops/runners/register", { role: "runner", body: { name } });
      expect(res.status).toBe(201);
      return res.body.runner_id as string;
    };

    it("another runner quoting the holder's attempt is refused, and the holder still completes", async () => {
      const holder = await register("holder");
      const intruder = await register("intruder");
      const [id] = await queueRuns(g, 1);
      let claimed: { run: { id: string; attempt: number } } | undefined;
      for (;;) {
        const res = await g.request("POST", "/ops/runs/claim", {
          role: "runner",
          body: { runner_id: holder },
        });
        expect(res.status).toBe(200);
        if (res.body.run.id === id) {
          claimed = res.body;
          break;
        }
        // A run another test left queued: end it and claim again.
        await g.request("POST", `/ops/runs/${res.body.run.id}/complete`, {
          role: "runner",
          body: { runner_id: holder, attempt: res.body.run.attempt, status: "succeeded" },
        });
      }
      const attempt = claimed?.run.attempt as number;
      for (const action of ["lease", "logs", "complete"] as const) {
        const body =
          action === "logs"
            ? { lines: [{ level: "info", msg: "forged" }] }
            : action === "complete"
              ? { status: "failed", error: { code: "forged", message: "not mine" } }
              : {};
        const res = await g.request("POST", `/ops/runs/${id}/${action}`, {
          role: "runner",
          body: { runner_id: intruder, attempt, ...body },
        });
        expect(`${action} ${res.status} ${res.body?.error?.code}`).toBe(`${action} 409 lease_lost`);
      }
      const wrongAttempt = await g.request("POST", `/ops/runs/${id}/complete`, {
        role: "runner",
        body: {
          runner_id: holder,
          attempt: attempt + 1,
          status: "failed",
          error: { code: "x", message: "x" },
        },
      });
      expect(wrongAttempt.status).toBe(409);
      expect(wrongAttempt.body.error.code).toBe("lease_lost");
      const run = await g.request("GET", `/ops/runs/${id}`, { role: "actions" });
      expect(run.body.status).toBe("running");
      expect(run.body.runner_id).toBe(holder);
      const done = await g.request("POST", `/ops/runs/${id}/complete`, {
        role: "runner",
        body: { runner_id: holder, attempt, status: "succeeded" },
      });
      expect(done.status).toBe(200);
      expect((await g.request("GET", `/ops/runs/${id}`, { role: "actions" })).body.status).toBe("succeeded");
    });
  });

  describe("the audit chain's link check", () => {
    it("names a middle event rewritten with a hash of its own that its successor no longer links to", async () => {
      const { hashEvent } = await import("../src/store/event-log.ts");
      await newDraft("some history");
      await newDraft("more history");
      const db = g.gimo.services.ctx.store.db;
      const all: EventsTable[] = await db.selectFrom("events").selectAll().orderBy("seq").execute();
      expect(all.length).toBeGreaterThan(4);
      const middle = all[Math.floor(all.length / 2)] as EventsTable;
      const { hash: _hash, ...rest } = middle;
      const forged = { ...rest, data: JSON.stringify({ forged: true }) };
      await db
        .updateTable("events")
        .set({ data: forged.data, hash: hashEvent(forged) })
        .where("seq", "=", middle.seq)
        .execute();
      try {
        const res = await g.request("GET", "/ops/audit/verify");
        expect(res.body.ok).toBe(false);
        // The forged event's own hash is right; only the successor's prev_hash shows the break.
        expect(res.body.broken_at).toBe(middle.seq + 1);
        expect(res.body.reason).toMatch(/does not follow its predecessor/);
      } finally {
        await db
          .updateTable("events")
          .set({ data: middle.data, hash: middle.hash })
          .where("seq", "=", middle.seq)
          .execute();
      }
      expect((await g.request("GET", "/ops/audit/verify")).body.ok).toBe(true);
    });
  });
});
