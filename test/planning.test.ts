import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { eventually } from "./support/runs.ts";

/**
 * The planner over real HTTP: GIMO's openai_compat adapter talks to a scripted model server.
 */
const KEY = "sk-test-planner-9f8e7d6c5b4a";

describe.each(storageKinds())("planning on %s", (kind) => {
  let g: TestGimo;
  let model: ScriptedModel;
  beforeAll(async () => {
    model = await startScriptedModel();
    g = await startGimo(kind, { generateWaitSeconds: 5 }, { env: { PLANNER_KEY: KEY } });
    const put = await g.request("PUT", "/ops/provider", {
      body: {
        planner: {
          type: "openai_compat",
          base_url: model.url,
          model: "scripted-model",
          api_key: "${PLANNER_KEY}",
          options: { max_retries: 2, retry_base_ms: 10, timeout_ms: 20_000 },
        },
      },
    });
    expect(put.status, put.text).toBe(200);
  });
  afterAll(async () => {
    await g?.close();
    await model?.close();
  });

  const lastPrompt = () => JSON.stringify(model.requests.at(-1)?.body.messages);

  it("generates a draft with a valid plan, the prompt hash and the tokens used", async () => {
    model.push({ json: samplePlan("Validate stock"), usage: { prompt_tokens: 120, completion_tokens: 80 } });
    const res = await g.request("POST", "/ops/generate", {
      role: "operator",
      body: { prompt: "Reject negative stock" },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe("draft");
    expect(res.body.plan.title).toBe("Validate stock");
    expect(res.body.prompt_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(res.body.usage).toEqual({ input_tokens: 120, output_tokens: 80 });
    expect(lastPrompt()).toContain("Reject negative stock");
    expect(lastPrompt()).toContain("README.md"); // repository context: the file tree
    expect(model.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(model.requests.at(-1)?.body.tool_choice).toBeUndefined();
    const task = await g.request("GET", `/ops/tasks/${res.body.task_id}`);
    expect(task.body.status).toBe("PLANNED");
  });

  it("POST /ops/tasks creates a task and its first draft the same way", async () => {
    model.push({ json: samplePlan("From tasks") });
    const res = await g.request("POST", "/ops/tasks", {
      role: "operator",
      body: { prompt: "Add a health check" },
    });
    expect(res.status).toBe(201);
    expect(res.body.plan.title).toBe("From tasks");
  });

  it("invalid model output gets one retry with the validation error, then the draft is error", async () => {
    model.push({ json: { title: "no steps" } }, { text: "still not a plan" });
    const res = await g.request("POST", "/ops/generate", { role: "operator", body: { prompt: "Break it" } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("error");
    expect(res.body.error).toMatch(/did not produce a valid plan after 2 attempts/);
    expect(lastPrompt()).toContain("That answer was rejected");
    const task = await g.request("GET", `/ops/tasks/${res.body.task_id}`);
    expect(task.body.status).toBe("FAILED");
  });

  it("revise makes revision n+1 from the old plan and the feedback; the old one is superseded", async () => {
    model.push({ json: samplePlan("First") });
    const first = await g.request("POST", "/ops/generate", {
      role: "operator",
      body: { prompt: "Cache the catalogue" },
    });
    model.push({ json: samplePlan("Second, with an expiry") });
    const rev = await g.request("POST", `/ops/drafts/${first.body.id}/revise`, {
      role: "operator",
      body: { feedback: "entries must expire after 5 minutes" },
    });
    expect(rev.status, rev.text).toBe(201);
    expect(rev.body.rev).toBe(2);
    expect(rev.body.plan.title).toBe("Second, with an expiry");
    expect(lastPrompt()).toContain("entries must expire after 5 minutes");
    expect(lastPrompt()).toContain("First");
    const old = await g.request("GET", `/ops/drafts/${first.body.id}`);
    expect(old.body.status).toBe("superseded");
    const task = await g.request("GET", `/ops/tasks/${first.body.task_id}`);
    expect(task.body.drafts.map((d: { rev: number; status: string }) => [d.rev, d.status])).toEqual([
      [1, "superseded"],
      [2, "draft"],
    ]);
  });

  it("answers 202 with a generating draft when the model is slow, and finishes it later", async () => {
    model.push({ json: samplePlan("Slow"), delayMs: 6_500 });
    const res = await g.request("POST", "/ops/generate", {
      role: "operator",
      body: { prompt: "Take your time" },
    });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe("generating");
    expect((await g.request("GET", `/ops/tasks/${res.body.task_id}`)).body.status).toBe("PLANNING");
    const done = await eventually(
      async () => {
        const d = await g.request("GET", `/ops/drafts/${res.body.id}`);
        return d.body.status === "draft" ? d.body : undefined;
      },
      15_000,
      200,
    );
    expect(done.plan.title).toBe("Slow");
  });

  it("propose asks for up to count new drafts, each awaiting approval", async () => {
    await g.request("PUT", "/ops/plan", { body: { objective: "A shop that never oversells" } });
    model.push({
      json: {
        proposals: [
          { prompt: "Validate stock on checkout", plan: samplePlan("Stock check") },
          { prompt: "Alert on low stock", plan: samplePlan("Low-stock alert") },
        ],
      },
    });
    const res = await g.request("POST", "/ops/plan/propose", { role: "operator", body: { count: 2 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.drafts.map((d: { status: string }) => d.status)).toEqual(["draft", "draft"]);
    expect(new Set(res.body.drafts.map((d: { task_id: string }) => d.task_id)).size).toBe(2);
    expect(lastPrompt()).toContain("A shop that never oversells");
  });

  it("waits out a 429 with retry-after, then succeeds", async () => {
    model.push({ status: 429, retryAfter: 1 }, { json: samplePlan("After the limit") });
    const started = Date.now();
    const res = await g.request("POST", "/ops/generate", {
      role: "operator",
      body: { prompt: "Rate limited" },
    });
    expect(res.status).toBe(201);
    expect(res.body.plan.title).toBe("After the limit");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("a project's .gimo/prompts override changes what the model receives", async () => {
    mkdirSync(join(g.repo.path, ".gimo/prompts/planner"), { recursive: true });
    writeFileSync(
      join(g.repo.path, ".gimo/prompts/planner/constraints.md"),
      "HOUSE RULE: every plan ends with a docs step.\n",
    );
    await g.repo.git("add", ".");
    await g.repo.git("commit", "-q", "-m", "house rules");
    model.push({ json: samplePlan("Overridden") });
    const res = await g.request("POST", "/ops/generate", {
      role: "operator",
      body: { prompt: "With house rules" },
    });
    expect(res.status).toBe(201);
    const system = JSON.stringify(model.requests.at(-1)?.body.messages?.[0]);
    expect(system).toContain("HOUSE RULE: every plan ends with a docs step.");
    const before = model.requests.at(-2)?.body.messages?.[0];
    expect(JSON.stringify(before)).not.toContain("HOUSE RULE");
  });

  it("a provider that is down gives 503 with a clear message; everything else keeps answering", async () => {
    await g.request("PUT", "/ops/provider", {
      body: {
        planner: {
          type: "openai_compat",
          base_url: "http://127.0.0.1:9/v1",
          model: "x",
          options: { max_retries: 0 },
        },
      },
    });
    try {
      const res = await g.request("POST", "/ops/generate", {
        role: "operator",
        body: { prompt: "Nobody home" },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("unavailable");
      expect(res.body.error.details.draft_id).toMatch(/^d_/);
      const health = await g.request("GET", "/ops/provider/health", { role: "actions" });
      expect(health.body.planner.ok).toBe(false);
      expect((await g.request("GET", "/health", { role: null })).status).toBe(200);
      expect((await g.request("GET", "/ops/drafts", { role: "actions" })).status).toBe(200);
    } finally {
      await g.request("PUT", "/ops/provider", {
        body: {
          planner: {
            type: "openai_compat",
            base_url: model.url,
            model: "scripted-model",
            api_key: "${PLANNER_KEY}",
          },
        },
      });
    }
    const health = await g.request("GET", "/ops/provider/health", { role: "actions" });
    expect(health.body.planner.ok).toBe(true);
    expect(health.body.planner.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("shows api keys as their reference, never a value", async () => {
    const view = await g.request("GET", "/ops/provider", { role: "actions" });
    expect(view.body.planner.api_key).toBe("${PLANNER_KEY}");
    expect(view.body.planner.api_key_set).toBe(true);
    await g.request("PUT", "/ops/provider", {
      body: {
        executor: {
          type: "openai_compat",
          base_url: model.url,
          model: "m",
          api_key: "sk-literal-abcdef123456",
        },
      },
    });
    const after = await g.request("GET", "/ops/provider", { role: "actions" });
    expect(after.text).not.toContain("sk-literal-abcdef123456");
    expect(after.body.executor.api_key).toBe("[redacted]");
  });

  it("credential requests: WAITING until provided; the vault keeps the value; nothing returns it", async () => {
    await g.request("PUT", "/ops/provider", {
      body: {
        executor: { type: "openai_compat", base_url: model.url, model: "m", api_key: "${EXECUTOR_KEY}" },
      },
    });
    const list = await g.request("GET", "/ops/requests");
    const req = list.body.items.find((r: { name: string }) => r.name === "EXECUTOR_KEY");
    expect(req).toMatchObject({ status: "WAITING", source: null });
    expect(req.id).toMatch(/^REQ-\d{3}$/);
    const planner = list.body.items.find((r: { name: string }) => r.name === "PLANNER_KEY");
    expect(planner).toMatchObject({ status: "PROVIDED", source: "env" });
    const put = await g.request("PUT", `/ops/requests/${req.id}`, {
      body: { value: "sk-vaulted-1234567890" },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ status: "PROVIDED", source: "vault" });
    expect(put.text).not.toContain("sk-vaulted-1234567890");
    const health = await g.request("GET", "/ops/provider/health");
    expect(health.body.executor.ok).toBe(true);
    expect(model.requests.length).toBeGreaterThan(0);
    expect((await g.request("GET", "/ops/requests", { role: "operator" })).status).toBe(403);
  });
});
