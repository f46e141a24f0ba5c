import { defineConfig } from "vitest/config";

/**
 * The tests StrykerJS runs against each mutant of the command policy (`npm run
 * test:mutation:command`, stryker.command-policy.json): the policy's table test and its lists-and-edges table, in process. The
 * policy is the largest pure module (≈2,500 mutants), so it has a run of its own.
 */
export default defineConfig({
  test: {
    include: ["src/core/command-policy.test.ts", "src/core/command-policy-edges.test.ts"],
    pool: "threads",
  },
});
