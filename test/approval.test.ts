import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHash } from "../src/core/content-hash.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

describe.each(storageKinds())("the approval gate on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  const newDraft = async (plan: unknown = samplePlan(), role: "operator" | "admin" = "operator") => {
    const res = await g.request("POST", "/ops/drafts", { role, body: { prompt: "validate stock", plan } });
    expect(res.status).toBe(201);
    return res.body;
  };

  it("approves a draft into an immutable snapshot whose hash is the canonical plan's", async () => {
    const draft = await newDraft();
    const res = await g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "operator", body: {} });
    expect(res.status).toBe(201);
    expect(res.body.approved.content_hash).toBe(contentHash(draft.plan));
    expect(res.body.approved.draft_id).toBe(draft.id);
    expect(res.body.run).toBeNull();
    const again = await g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "operator" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("illegal_transition");
    const edit = await g.request("PUT", `/ops/drafts/${draft.id}`, {
      role: "operator",
      body: { prompt: "changed" },
    });
    expect(edit.status).toBe(409);
    const task = await g.request("GET", `/ops/tasks/${draft.task_id}`, { role: "actions" });
    expect(task.body.status).toBe("APPROVED");
  });

  it("of 50 concurrent approvals of one draft exactly one succeeds", async () => {
    const draft = await newDraft();
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "operator", body: { auto_run: true } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    const approved = await g.request("GET", `/ops/approved?task=${draft.task_id}`, { role: "actions" });
    expect(approved.body.items).toHaveLength(1);
    const runs = await g.request("GET", `/ops/runs?task=${draft.task_id}`, { role: "actions" });
    expect(runs.body.items).toHaveLength(1);
    expect(runs.body.items[0].status).toBe("queued");
  });

  it("auto_run defaults to the plan's default_auto_run and queues the run in the same step", async () => {
    const plan = await g.request("GET", "/ops/plan");
    const put = await g.request("PUT", "/ops/plan", {
      headers: { "if-match": String(plan.body.version) },
      body: { objective: "ship", default_auto_run: true },
    });
    expect(put.status).toBe(200);
    const draft = await newDraft();
    const res = await g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "operator" });
    expect(res.status).toBe(201);
    expect(res.body.run.status).toBe("queued");
    expect(res.body.run.approved_id).toBe(res.body.approved.id);
    const task = await g.request("GET", `/ops/tasks/${draft.task_id}`);
    expect(task.body.status).toBe("EXECUTING");
    const reset = await g.request("PUT", "/ops/plan", {
      headers: { "if-match": String(put.body.version) },
      body: { objective: "ship", default_auto_run: false },
    });
    expect(reset.status).toBe(200);
  });

  it("only approved plans can run: a draft id is 403, an unknown id 404", async () => {
    const draft = await newDraft();
    const byDraft = await g.request("POST", "/ops/runs", {
      role: "operator",
      body: { approved_id: draft.id },
    });
    expect(byDraft.status).toBe(403);
    expect(byDraft.body.error.message).toBe("only approved plans can run");
    const unknown = await g.request("POST", "/ops/runs", {
      role: "operator",
      body: { approved_id: "a_01JD0000000000000000000000" },
    });
    expect(unknown.status).toBe(404);
    const garbage = await g.request("POST", "/ops/runs", {
      role: "operator",
      body: { approved_id: "../../etc" },
    });
    expect(garbage.status).toBe(404);
  });

  it("a draft without a plan cannot be approved", async () => {
    const res = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "just an idea" },
    });
    expect(res.status).toBe(201);
    const approve = await g.request("POST", `/ops/drafts/${res.body.id}/approve`, { role: "operator" });
    expect(approve.status).toBe(422);
  });

  it("enforces require_distinct_approver", async () => {
    const plan = await g.request("GET", "/ops/plan");
    await g.request("PUT", "/ops/plan", {
      headers: { "if-match": String(plan.body.version) },
      body: { require_distinct_approver: true },
    });
    const draft = await newDraft(samplePlan(), "operator");
    const self = await g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "operator" });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe("distinct_approver_required");
    const other = await g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "admin" });
    expect(other.status).toBe(201);
    const now = await g.request("GET", "/ops/plan");
    await g.request("PUT", "/ops/plan", { headers: { "if-match": String(now.body.version) }, body: {} });
  });

  it("20 parallel POST /ops/runs with one Idempotency-Key make exactly one run", async () => {
    const draft = await newDraft();
    const approved = await g.request("POST", `/ops/drafts/${draft.id}/approve`, { role: "operator" });
    const approvedId = approved.body.approved.id;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        g.request("POST", "/ops/runs", {
          role: "operator",
          headers: { "idempotency-key": `key-${approvedId}` },
          body: { approved_id: approvedId },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    // Replays are answers like any other: they carry the request's correlation id.
    const replayed = results.filter((r) => r.headers.get("idempotent-replayed") === "true");
    expect(replayed.length).toBeGreaterThan(0);
    for (const r of results) expect(r.headers.get("x-correlation-id")).toMatch(/^[\w.:-]{1,128}$/);
    const runs = await g.request("GET", `/ops/runs?task=${draft.task_id}`);
    expect(runs.body.items).toHaveLength(1);
    const reused = await g.request("POST", "/ops/runs", {
      role: "operator",
      headers: { "idempotency-key": `key-${approvedId}` },
      body: { approved_id: approvedId, priority: 5 },
    });
    expect(reused.status).toBe(422);
  });

  it("revisions supersede the previous draft of the task", async () => {
    const first = await newDraft();
    const second = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "second try", task_id: first.task_id, plan: samplePlan("Second") },
    });
    expect(second.status).toBe(201);
    expect(second.body.rev).toBe(2);
    const old = await g.request("GET", `/ops/drafts/${first.id}`);
    expect(old.body.status).toBe("superseded");
    const task = await g.request("GET", `/ops/tasks/${first.task_id}`);
    expect(task.body.drafts.map((d: { rev: number }) => d.rev)).toEqual([1, 2]);
    expect(task.body.status).toBe("PLANNED");
  });

  it("cancel and requeue follow the run state machine", async () => {
    const draft = await newDraft();
    const approved = await g.request("POST", `/ops/drafts/${draft.id}/approve`, {
      role: "operator",
      body: { auto_run: true },
    });
    const runId = approved.body.run.id;
    const cancel = await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe("cancelled");
    expect((await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" })).status).toBe(409);
    const requeue = await g.request("POST", `/ops/runs/${runId}/requeue`, {
      role: "operator",
      body: { backoff_seconds: 60 },
    });
    expect(requeue.status).toBe(200);
    expect(requeue.body.status).toBe("queued");
    expect(Date.parse(requeue.body.run_after)).toBeGreaterThan(Date.now() + 50_000);
    expect((await g.request("POST", `/ops/runs/${runId}/requeue`, { role: "operator" })).status).toBe(409);
  });
});
