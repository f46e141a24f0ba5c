import { afterEach, describe, expect, it } from "vitest";
import { PlanContent } from "../contract/plan.ts";
import { ProviderUnavailable } from "./errors.ts";
import { type DraftPlanInput, draftPlan, PlanInvalid } from "./planner.ts";
import { loadPrompts } from "./prompts.ts";
import { createProvider } from "./providers.ts";
import { type ScriptedModel, type ScriptedReply, startScriptedModel } from "./scripted-server.ts";

/** draftPlan with the real openai_compat adapter against the scripted server. */

const plan = {
  title: "Validate negative stock in sales",
  summary: "Refuse negative quantities.",
  steps: [
    { id: "s1", kind: "agent", title: "Add validation", instructions: "In src/sales.ts, refuse qty < 0." },
    { id: "s2", kind: "command", title: "Regenerate fixtures", command: "npm run fixtures" },
    { id: "s3", kind: "test", title: "Unit tests" },
  ],
  acceptance: ["Tests green", "Existing flow unchanged"],
  risk: "low",
};

const servers: ScriptedModel[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function planWith(
  script: ScriptedReply[],
  extra: Partial<Omit<DraftPlanInput<unknown>, "schema">> = {},
) {
  const model = await startScriptedModel({ script });
  servers.push(model);
  const provider = createProvider({ type: "openai_compat", base_url: model.url, model: "scripted-model" });
  const prompts = await loadPrompts("planner");
  const run = draftPlan({
    provider,
    prompts,
    request: { prompt: "Reject negative stock in sales" },
    repoContext: "src/sales.ts\nsrc/stock.ts\ntest command: npm test",
    lastRuns: [{ id: "r_01", status: "failed", title: "Old attempt", error: "acceptance_not_met" }],
    planDoc: { objective: "A reliable shop backend", constraints: ["No new dependencies"] },
    schema: PlanContent,
    ...extra,
  });
  return { model, prompts, run };
}

describe("draftPlan", () => {
  it("shows the model the prompts, the project plan, the repository, recent runs and the request", async () => {
    const { model, prompts, run } = await planWith([
      { json: plan, usage: { prompt_tokens: 900, completion_tokens: 80 } },
    ]);
    const result = await run;
    expect(result).toMatchObject({
      attempts: 1,
      prompt_hash: prompts.prompt_hash,
      usage: { input_tokens: 900 },
    });
    expect(result.plan.steps.map((s) => s.kind)).toEqual(["agent", "command", "test"]);
    const [system, user] = model.requests[0]?.body.messages ?? [];
    expect(system?.content).toContain("# Your role: planner");
    expect(system?.content).toContain("# Constraints on every plan");
    const text = String(user?.content);
    for (const expected of [
      "No new dependencies",
      "src/stock.ts",
      "r_01 failed",
      "Reject negative stock in sales",
    ]) {
      expect(text).toContain(expected);
    }
    expect(text.trim().endsWith("Reject negative stock in sales")).toBe(true);
  });

  it("hands an invalid answer back once with the validation error, then accepts the fix", async () => {
    const broken = { ...plan, steps: [{ id: "s1", kind: "agent", title: "No instructions" }] };
    const { model, run } = await planWith([
      { json: broken, usage: { prompt_tokens: 100, completion_tokens: 10 } },
      { json: plan, usage: { prompt_tokens: 150, completion_tokens: 20 } },
    ]);
    const result = await run;
    expect(result.attempts).toBe(2);
    expect(result.usage).toEqual({ input_tokens: 250, output_tokens: 30 });
    const retry = model.requests[1]?.body.messages ?? [];
    expect(retry.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(retry[2]?.content).toBe(JSON.stringify(broken));
    expect(String(retry[3]?.content)).toMatch(/rejected: steps\.0\.instructions/);
  });

  it("throws PlanInvalid after a second invalid answer", async () => {
    const { model, run } = await planWith([
      { text: "I think you should add validation." },
      { json: { title: "x" } },
    ]);
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanInvalid);
    expect((error as PlanInvalid).code).toBe("unprocessable");
    expect((error as PlanInvalid).problem).toMatch(/steps/);
    expect((error as PlanInvalid).usage.output_tokens).toBeGreaterThan(0);
    expect(model.requests).toHaveLength(2);
  });

  it("passes a revision's previous plan and feedback", async () => {
    const { model, run } = await planWith([{ json: plan }], {
      request: {
        prompt: "Reject negative stock",
        revision: { previous_plan: plan, feedback: "Drop the fixtures step." },
      },
    });
    await run;
    const text = String(model.requests[0]?.body.messages?.[1]?.content);
    expect(text).toContain("## Plan to revise");
    expect(text).toContain('"npm run fixtures"');
    expect(text).toContain("Drop the fixtures step.");
  });

  it("lets provider failures through untouched", async () => {
    const model = await startScriptedModel();
    const url = model.url;
    await model.close();
    const provider = createProvider({
      type: "openai_compat",
      base_url: url,
      model: "m",
      options: { retry_base_ms: 5 },
    });
    const error = await draftPlan({
      provider,
      prompts: { system: "s", prompt_hash: "sha256:x" },
      request: { prompt: "p" },
      schema: PlanContent,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
  });
});
