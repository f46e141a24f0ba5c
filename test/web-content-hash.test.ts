import { describe, expect, it } from "vitest";
import { contentHash as serverHash } from "../src/core/content-hash.ts";
import { DEMO_PLAN } from "../src/demo/model-script.ts";
import { contentHash as browserHash } from "../web/src/lib/content-hash.ts";
import { samplePlan } from "./support/harness.ts";

/**
 * The web UI computes the content hash of the plan on screen and sends it with the approval; the
 * server refuses when its own hash differs. Both must hash the same plan the same way, whatever
 * the key order, unicode or nesting.
 */
describe("the web UI's content hash", () => {
  it("equals the server's for the same plan", async () => {
    const plans: unknown[] = [
      DEMO_PLAN,
      samplePlan("Ünïcødé ✓ \u2028 title"),
      {
        steps: [{ title: "b", id: "s1", kind: "agent", instructions: 'x\n"quoted"' }],
        title: "reordered keys",
      },
      {
        title: "nested",
        budgets: { max_turns: 3, max_tokens: 10_000 },
        acceptance: [],
        risk: "high",
        summary: "",
      },
      { a: undefined, b: null, c: [1, 2.5, -0, "😀"], é: { z: true, a: false } },
    ];
    for (const plan of plans) expect(await browserHash(plan)).toBe(serverHash(plan));
  });
});
