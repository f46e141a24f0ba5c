import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * `require_distinct_approver` (SPEC §2): no identity that wrote any of the content being approved
 * may approve it — whoever created the draft, edited it (PUT), asked for a revision of it, or wrote
 * an earlier revision of the same task, whose content carries over. Each person is a minted
 * operator token, so each has an identity of their own.
 */
describe.each(storageKinds())("require_distinct_approver on %s", (kind) => {
  let g: TestGimo;
  let model: ScriptedModel;
  const who: Record<string, string> = {};

  beforeAll(async () => {
    model = await startScriptedModel();
    g = await startGimo(kind, { generateWaitSeconds: 10 });
    const provider = { type: "openai_compat", base_url: model.url, model: "scripted" };
    expect((await g.request("PUT", "/ops/provider", { body: { planner: provider } })).status).toBe(200);
    const plan = await g.request("GET", "/ops/plan");
    const put = await g.request("PUT", "/ops/plan", {
      headers: { "if-match": String(plan.body.version) },
      body: { require_distinct_approver: true },
    });
    expect(put.status).toBe(200);
    for (const name of ["alice", "bob", "carol", "dave", "erin"]) {
      const res = await g.request("POST", "/ops/tokens", { body: { name, role: "operator" } });
      expect(res.status).toBe(201);
      who[name] = res.body.token;
    }
  });
  afterAll(async () => {
    await g?.close();
    await model?.close();
  });

  const as = (name: string) => ({ token: who[name] as string });
  const approve = (name: string, draftId: string) =>
    g.request("POST", `/ops/drafts/${draftId}/approve`, { ...as(name), body: { auto_run: false } });
  const expectRefused = async (name: string, draftId: string) => {
    const res = await approve(name, draftId);
    expect({ name, status: res.status, code: res.body.error?.code }).toEqual({
      name,
      status: 403,
      code: "distinct_approver_required",
    });
    expect(res.body.error.message).toContain(name);
  };

  it("refuses the creator and every editor, and lets a third identity approve", async () => {
    const created = await g.request("POST", "/ops/drafts", {
      ...as("alice"),
      body: { prompt: "validate stock", plan: samplePlan("Alice's plan") },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Bob writes a whole new plan into Alice's draft…
    const edited = await g.request("PUT", `/ops/drafts/${id}`, {
      ...as("bob"),
      body: { plan: samplePlan("Bob's plan, not Alice's") },
    });
    expect(edited.status).toBe(200);
    // …and may not approve it, nor may Alice.
    await expectRefused("bob", id);
    await expectRefused("alice", id);
    const ok = await approve("dave", id);
    expect(ok.status).toBe(201);
    expect(ok.body.approved.approved_by).toBe("dave");
    expect(ok.body.approved.plan.title).toBe("Bob's plan, not Alice's");
  });

  it("refuses whoever asked for a revision and every author of the revisions before it", async () => {
    const created = await g.request("POST", "/ops/drafts", {
      ...as("alice"),
      body: { prompt: "cache the catalogue", plan: samplePlan("First") },
    });
    await g.request("PUT", `/ops/drafts/${created.body.id}`, { ...as("bob"), body: { prompt: "cache it" } });
    model.push({ json: samplePlan("Revised by the planner for Carol") });
    const revised = await g.request("POST", `/ops/drafts/${created.body.id}/revise`, {
      ...as("carol"),
      body: { feedback: "entries must expire" },
    });
    expect(revised.status, revised.text).toBe(201);
    expect(revised.body.rev).toBe(2);
    expect(revised.body.created_by).toBe("carol");
    for (const name of ["carol", "alice", "bob"]) await expectRefused(name, revised.body.id);

    // A hand-written revision of the same task: its writer joins the authors, the others stay.
    const third = await g.request("POST", "/ops/drafts", {
      ...as("erin"),
      body: { prompt: "cache with expiry", task_id: created.body.task_id, plan: samplePlan("Third") },
    });
    expect(third.status).toBe(201);
    expect(third.body.rev).toBe(3);
    for (const name of ["erin", "carol", "alice", "bob"]) await expectRefused(name, third.body.id);
    const ok = await approve("dave", third.body.id);
    expect(ok.status).toBe(201);
    expect(ok.body.approved.approved_by).toBe("dave");
  });

  it("writes nothing to the event log for a refused approval", async () => {
    const created = await g.request("POST", "/ops/drafts", {
      ...as("alice"),
      body: { prompt: "refused", plan: samplePlan() },
    });
    await g.request("PUT", `/ops/drafts/${created.body.id}`, {
      ...as("bob"),
      body: { plan: samplePlan("B") },
    });
    const before = await g.gimo.services.audit.headSeq();
    await expectRefused("bob", created.body.id);
    expect(await g.gimo.services.audit.headSeq()).toBe(before);
    const draft = await g.request("GET", `/ops/drafts/${created.body.id}`, { role: "actions" });
    expect(draft.body.status).toBe("draft");
  });
});
