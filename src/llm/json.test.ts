import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PlanContent } from "../contract/plan.ts";
import { describeZodError, extractJson, jsonSchemaOf } from "./json.ts";

describe("extractJson", () => {
  const value = { title: "T", steps: [{ id: "s1", note: 'uses {braces} and "quotes"' }] };
  const json = JSON.stringify(value);

  it.each([
    ["bare JSON", json],
    ["a fenced block", `Here you go:\n\`\`\`json\n${json}\n\`\`\``],
    ["an unlabelled fence", `\`\`\`\n${json}\n\`\`\``],
    ["prose around it", `Sure. ${json} Hope that helps {really}.`],
    ["a reasoning block first", `<think>Maybe {x: 1}? Let me see [a, b].</think>\n${json}`],
    ["braces in prose before it", `Plan {draft}: ${json}`],
  ])("finds the value in %s", (_, text) => {
    expect(extractJson(text)).toEqual({ ok: true, value });
  });

  it("explains what is wrong when there is no JSON", () => {
    expect(extractJson("   ")).toEqual({ ok: false, problem: "the answer is empty; expected a JSON object" });
    const result = extractJson("{ title: 'single quotes' }");
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.problem).toMatch(/not valid JSON/);
  });

  it("does bounded work on long unbalanced text", () => {
    const started = performance.now();
    expect(extractJson("{".repeat(200_000)).ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("schemas for models", () => {
  it("shows the plan's input shape: defaulted fields optional, no $schema", () => {
    const schema = jsonSchemaOf(PlanContent);
    expect(schema.$schema).toBeUndefined();
    expect(schema.required).toEqual(["title", "steps"]);
  });

  it("describes validation errors path by path", () => {
    const result = z.object({ a: z.string(), b: z.array(z.number()) }).safeParse({ b: [1, "x"] });
    expect(result.success).toBe(false);
    if (!result.success) expect(describeZodError(result.error)).toMatch(/^a: .*; b\.1: /);
  });
});
