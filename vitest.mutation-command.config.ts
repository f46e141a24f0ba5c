import { defineConfig } from "vitest/config";

/**
 * The tests StrykerJS runs against each mutant of the command policy (`npm run
 * test:mutation:command`, stryker.command-policy.json): the policy's table test, its lists-and-edges table, the git table and the unit tables of the
 * word helpers and the shell reader, in process. The
 * policy is the largest pure module (≈2,500 mutants), so it has a run of its own.
 */
export default defineConfig({
  test: {
    include: [
      "src/core/command-policy.test.ts",
      "src/core/command-policy-edges.test.ts",
      "src/core/command-policy-git.test.ts",
      "src/core/command-words-table.test.ts",
      "src/core/shell-syntax-table.test.ts",
    ],
    pool: "threads",
  },
});
