import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * One approved plan, one active run: `POST /ops/runs` for a plan that already has a queued or
 * running run is 409 `run_active` unless the body says `allow_parallel: true` — under real
 * parallel HTTP requests on both databases, with Idempotency-Key replays left intact. And a
 * project with `require_tests: true` and no `test_command` queues no run at all (422
 * `tests_required`), whichever way the run would be made.
 */
describe.each(storageKinds())("runs of one approved plan on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: 50 } });
  });
  afterAll(async () => {
    await g?.close();
  });

  async function approved(): Promise<{ id: string; taskId: string }> {
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "one at a time", plan: samplePlan() },
    });
    const res = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      role: "operator",
      body: { auto_run: false },
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.approved.id, taskId: draft.body.task_id };
  }

  const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    g.request("POST", "/ops/runs", { role: "operator", body, headers });

  const runsOf = async (taskId: string) =>
    (await g.request("GET", `/ops/runs?task=${taskId}`, { role: "actions" })).body.items as {
      id: string;
      status: string;
    }[];

  it("two concurrent POSTs for one plan make exactly one run and one 409 run_active (20 rounds)", async () => {
    for (let round = 0; round < 20; round++) {
      const plan = await approved();
      const answers = await Promise.all([post({ approved_id: plan.id }), post({ approved_id: plan.id })]);
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, answers.map((a) => a.text).join("\n")).toEqual([201, 409]);
      const refused = answers.find((a) => a.status === 409);
      const created = answers.find((a) => a.status === 201);
      expect(refused?.body.error.code).toBe("run_active");
      expect(refused?.body.error.details).toEqual({ run_id: created?.body.id, status: "queued" });
      expect(await runsOf(plan.taskId)).toHaveLength(1);
    }
  });

  it("of 12 concurrent POSTs exactly one queues; allow_parallel queues another on purpose", async () => {
    const plan = await approved();
    const answers = await Promise.all(Array.from({ length: 12 }, () => post({ approved_id: plan.id })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(11);
    for (const r of refused) expect(r.body.error.code).toBe("run_active");
    const parallel = await post({ approved_id: plan.id, allow_parallel: true });
    expect(parallel.status, parallel.text).toBe(201);
    expect(await runsOf(plan.taskId)).toHaveLength(2);
    // allow_parallel: false is the default behaviour, said out loud.
    expect((await post({ approved_id: plan.id, allow_parallel: false })).body.error.code).toBe("run_active");
  });

  it("a plan whose run ended (or was cancelled) may run again", async () => {
    const plan = await approved();
    const first = await post({ approved_id: plan.id });
    expect(first.status).toBe(201);
    expect((await post({ approved_id: plan.id })).status).toBe(409);
    const cancel = await g.request("POST", `/ops/runs/${first.body.id}/cancel`, {
      role: "operator",
      body: {},
    });
    expect(cancel.body.status).toBe("cancelled");
    const again = await post({ approved_id: plan.id });
    expect(again.status, again.text).toBe(201);
  });

  it("the same Idempotency-Key replays the first answer; another key gets the 409", async () => {
    const plan = await approved();
    const key = `run-${plan.id}`;
    const both = await Promise.all([
      post({ approved_id: plan.id }, { "idempotency-key": key }),
      post({ approved_id: plan.id }, { "idempotency-key": key }),
    ]);
    expect(both.map((b) => b.status)).toEqual([201, 201]);
    expect(both[0]?.body.id).toBe(both[1]?.body.id);
    // Later, while that run is still queued: the same key still replays it, not a 409.
    const replay = await post({ approved_id: plan.id }, { "idempotency-key": key });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.id).toBe(both[0]?.body.id);
    const other = await post({ approved_id: plan.id }, { "idempotency-key": `${key}-other` });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("run_active");
    // The refusal released its key: used again, it is answered afresh (still 409 while the run is queued).
    const retried = await post({ approved_id: plan.id }, { "idempotency-key": `${key}-other` });
    expect(retried.status).toBe(409);
    expect(await runsOf(plan.taskId)).toHaveLength(1);
  });

  it("require_tests without a test_command refuses to queue runs, by every way in (422 tests_required)", async () => {
    const patch = await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { require_tests: true } });
    expect(patch.status, patch.text).toBe(200);
    expect(patch.body.require_tests).toBe(true);
    expect(patch.body.test_command).toBeNull();
    try {
      const plan = await approved(); // approving without a run is allowed
      const refused = await post({ approved_id: plan.id });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe("tests_required");
      expect(refused.body.error.message).toMatch(/test_command/);
      const parallel = await post({ approved_id: plan.id, allow_parallel: true });
      expect(parallel.body.error.code).toBe("tests_required");
      // Approve with auto_run: refused whole — the draft stays a draft, nothing is queued.
      const draft = await g.request("POST", "/ops/drafts", {
        role: "operator",
        body: { prompt: "auto", plan: samplePlan() },
      });
      const auto = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
        role: "operator",
        body: { auto_run: true },
      });
      expect(auto.status).toBe(422);
      expect(auto.body.error.code).toBe("tests_required");
      expect((await g.request("GET", `/ops/drafts/${draft.body.id}`)).body.status).toBe("draft");
      expect(await runsOf(plan.taskId)).toHaveLength(0);
      // With a test command the same plan runs.
      const tested = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
        body: { test_command: "true" },
      });
      // A PATCH changes what it names and nothing else (no setting falls back to its default).
      expect(tested.body).toMatchObject({
        require_tests: true,
        test_command: "true",
        max_concurrent_runs: 50,
      });
      expect((await post({ approved_id: plan.id })).status).toBe(201);
    } finally {
      await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { require_tests: false } });
    }
    const view = await g.request("GET", `/ops/projects/${g.projectId}`, { role: "actions" });
    expect(view.body.require_tests).toBe(false);
    const bad = await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { require_tests: "yes" } });
    expect(bad.status).toBe(400);
  });
});
