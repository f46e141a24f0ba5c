import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { PlanContent } from "../contract/plan.ts";
import type { ProviderConfig } from "./config.ts";
import {
  ProviderRateLimited,
  ProviderRejected,
  ProviderUnavailable,
  StructuredOutputInvalid,
} from "./errors.ts";
import { createProvider } from "./providers.ts";
import { type ScriptedModel, startScriptedModel } from "./scripted-server.ts";

/** The openai_compat adapter against the scripted server, over real HTTP. */

const plan = {
  title: "Validate negative stock in sales",
  summary: "Refuse sales with a negative quantity.",
  steps: [
    { id: "s1", kind: "agent", title: "Add validation", instructions: "Refuse quantity < 0 in createSale." },
    { id: "s2", kind: "test", title: "Unit tests" },
  ],
  acceptance: ["Tests green"],
  risk: "low",
};

const servers: ScriptedModel[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function scripted(...args: Parameters<typeof startScriptedModel>) {
  const server = await startScriptedModel(...args);
  servers.push(server);
  return server;
}

function provider(url: string, options: ProviderConfig["options"] = {}, apiKey?: string) {
  return createProvider({
    type: "openai_compat",
    base_url: url,
    model: "scripted-model",
    ...(apiKey ? { api_key: apiKey } : {}),
    options: { retry_base_ms: 10, retry_max_ms: 50, ...options },
  });
}

const ask = { system: "You plan.", messages: [{ role: "user" as const, content: "Reject negative stock" }] };

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

describe("openai_compat structured output", () => {
  it("returns the validated plan with its usage, asking for JSON and showing the schema", async () => {
    const model = await scripted({
      script: [{ json: plan, usage: { prompt_tokens: 120, completion_tokens: 45 } }],
    });
    const result = await provider(model.url).generateObject({
      ...ask,
      schema: PlanContent,
      schemaName: "plan",
    });
    expect(result.value.title).toBe(plan.title);
    expect(result.value.steps.map((s) => s.kind)).toEqual(["agent", "test"]);
    expect(result.usage).toEqual({ input_tokens: 120, output_tokens: 45 });
    expect(JSON.parse(result.raw)).toEqual(plan);
    const body = model.requests[0]?.body;
    expect(body?.response_format).toEqual({ type: "json_object" });
    expect(body?.messages?.[0]?.role).toBe("system");
    expect(String(body?.messages?.[0]?.content)).toContain('"steps"');
    expect(body?.messages?.[1]).toEqual({ role: "user", content: "Reject negative stock" });
  });

  it("works the same when streaming", async () => {
    const model = await scripted({
      script: [{ json: plan, usage: { prompt_tokens: 10, completion_tokens: 5 } }],
    });
    const llm = provider(model.url, { stream: true });
    const result = await llm.generateObject({ ...ask, schema: PlanContent, schemaName: "plan" });
    expect(result.value.title).toBe(plan.title);
    expect(result.usage).toEqual({ input_tokens: 10, output_tokens: 5 });
    expect(model.requests[0]?.body.stream).toBe(true);
  });

  it("accepts JSON wrapped in prose and a code fence, as local models write it", async () => {
    const text = `Here is the plan:\n\`\`\`json\n${JSON.stringify(plan, null, 2)}\n\`\`\`\nGood luck!`;
    const model = await scripted({ script: [{ text }] });
    const result = await provider(model.url).generateObject({
      ...ask,
      schema: PlanContent,
      schemaName: "plan",
    });
    expect(result.value.steps).toHaveLength(2);
  });

  it("reports text that is not JSON as StructuredOutputInvalid with the raw answer", async () => {
    const model = await scripted({ script: [{ text: "Sure! I would add a validation step." }] });
    const error = await provider(model.url)
      .generateObject({ ...ask, schema: PlanContent, schemaName: "plan" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StructuredOutputInvalid);
    const invalid = error as StructuredOutputInvalid;
    expect(invalid.code).toBe("unprocessable");
    expect(invalid.problem).toMatch(/not valid JSON/);
    expect(invalid.raw).toBe("Sure! I would add a validation step.");
    expect(invalid.usage.output_tokens).toBeGreaterThan(0);
  });

  it("reports JSON that misses the schema with the failing paths", async () => {
    const model = await scripted({
      script: [{ json: { title: "x", steps: [{ id: "s1", kind: "deploy" }] } }],
    });
    const error = (await provider(model.url)
      .generateObject({ ...ask, schema: PlanContent, schemaName: "plan" })
      .catch((e: unknown) => e)) as StructuredOutputInvalid;
    expect(error).toBeInstanceOf(StructuredOutputInvalid);
    expect(error.problem).toMatch(/steps\.0/);
  });

  it("drops the response format when the server rejects it (LM Studio) and keeps it dropped", async () => {
    const lmStudio = { error: { message: "'response_format.type' must be 'json_schema' or 'text'" } };
    const model = await scripted({
      script: [{ status: 400, error: lmStudio }, { json: plan }, { json: plan }],
    });
    const llm = provider(model.url);
    const first = await llm.generateObject({ ...ask, schema: PlanContent, schemaName: "plan" });
    expect(first.value.title).toBe(plan.title);
    await llm.generateObject({ ...ask, schema: PlanContent, schemaName: "plan" });
    expect(model.requests.map((r) => r.body.response_format?.type)).toEqual([
      "json_object",
      undefined,
      undefined,
    ]);
  });

  it("sends a json_schema response format when configured for it", async () => {
    const model = await scripted({ script: [{ json: { ok: true } }] });
    const schema = z.object({ ok: z.boolean() });
    await provider(model.url, { json_mode: "json_schema" }).generateObject({
      ...ask,
      schema,
      schemaName: "answer",
    });
    expect(model.requests[0]?.body.response_format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "answer", strict: false },
    });
  });
});

describe("openai_compat retries and failures", () => {
  it("waits out a 429's Retry-After, then succeeds", async () => {
    const model = await scripted({ script: [{ status: 429, retryAfter: 1 }, { json: plan }] });
    const result = await provider(model.url).generateObject({
      ...ask,
      schema: PlanContent,
      schemaName: "plan",
    });
    expect(result.value.title).toBe(plan.title);
    const [first, second] = model.requests.map((r) => r.receivedAt);
    expect((second ?? 0) - (first ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(1_000);
  });

  it("fails at once with ProviderRateLimited when Retry-After exceeds the wait cap", async () => {
    const model = await scripted({ script: [{ status: 429, retryAfter: 120 }] });
    const started = Date.now();
    const error = await provider(model.url)
      .step({ ...ask, tools: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRateLimited);
    expect((error as ProviderRateLimited).retryAfterSeconds).toBe(120);
    expect((error as ProviderRateLimited).status).toBe(429);
    expect(model.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("retries a 500 and returns the next answer", async () => {
    const model = await scripted({ script: [{ status: 500 }, { status: 503 }, { text: "hello" }] });
    const result = await provider(model.url).step({ ...ask, tools: [] });
    expect(result.text).toBe("hello");
    expect(model.requests).toHaveLength(3);
  });

  it("gives up after max_retries with ProviderUnavailable (503)", async () => {
    const model = await scripted({ respond: () => ({ status: 502 }) });
    const error = await provider(model.url, { max_retries: 2 })
      .step({ ...ask, tools: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as ProviderUnavailable).status).toBe(503);
    expect((error as Error).message).toMatch(/HTTP 502.*after 3 attempts/);
    expect(model.requests).toHaveLength(3);
  });

  it("reports a server that is down as ProviderUnavailable quickly", async () => {
    const url = await closedPortUrl();
    const started = Date.now();
    const error = await provider(url, { retry_base_ms: 500, retry_max_ms: 2_000 })
      .step({ ...ask, tools: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as Error).message).toMatch(/cannot connect \(ECONNREFUSED\)/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("retries a dropped connection", async () => {
    const model = await scripted({ script: [{ hangUp: true }, { text: "back" }] });
    expect((await provider(model.url).step({ ...ask, tools: [] })).text).toBe("back");
  });

  it("times out a silent server per attempt", async () => {
    const model = await scripted({ script: [{ text: "late", delayMs: 1_500 }] });
    const error = await provider(model.url, { timeout_ms: 200, max_retries: 0 })
      .step({ ...ask, tools: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as Error).message).toMatch(/within 200 ms/);
  });

  it("rethrows the caller's abort instead of a provider error", async () => {
    const model = await scripted({ script: [{ text: "late", delayMs: 1_000 }] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user cancelled")), 100);
    const error = await provider(model.url)
      .step({ ...ask, tools: [], signal: controller.signal })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe("user cancelled");
    expect(model.requests).toHaveLength(1);
  });

  it("never puts the API key in an error message, even when the server echoes it", async () => {
    const key = "sk-test-0123456789abcdef";
    const model = await scripted({
      script: [{ status: 401, error: { error: { message: `Incorrect API key ${key}` } } }],
    });
    const error = await provider(model.url, {}, key)
      .step({ ...ask, tools: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as Error).message).toMatch(/HTTP 401.*check the API key/);
    expect(
      JSON.stringify({ m: (error as Error).message, d: (error as ProviderRejected).details }),
    ).not.toContain(key);
    expect(model.requests[0]?.headers.authorization).toBe(`Bearer ${key}`);
  });
});

describe("openai_compat health", () => {
  it("is ok when the server lists models, and says so when the model is missing", async () => {
    const model = await scripted({ models: ["other-model"] });
    const health = await provider(model.url).health();
    expect(health.ok).toBe(true);
    expect(health.detail).toMatch(/scripted-model is not in the server's model list/);
    expect(health.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("is not ok when the server is down", async () => {
    const health = await provider(await closedPortUrl()).health();
    expect(health).toMatchObject({ ok: false, detail: "cannot connect (ECONNREFUSED)" });
  });
});
