import { defineConfig } from "vitest/config";

/**
 * The unit tests StrykerJS runs against each mutant of the safety-critical pure modules
 * (`npm run test:mutation`, stryker.config.json). Only fast, in-process tests: a mutant costs one
 * re-run of the tests that cover it, so nothing here starts a server or a sandbox, and the one
 * database (the event log's) is SQLite in memory, migrated in ≈40 ms.
 */
export default defineConfig({
  test: {
    include: [
      "src/core/roles.test.ts",
      "src/core/transition-tables.test.ts",
      "src/core/state-machines.test.ts",
      "src/core/canonical-json.test.ts",
      "src/core/task-status.test.ts",
      "src/core/redactor.test.ts",
      "src/core/stuck-detector.test.ts",
      "src/core/git-policy.test.ts",
      "src/core/event-visibility.test.ts",
      "src/core/sandbox-limits.test.ts",
      "src/core/egress-policy.test.ts",
      "src/store/event-log.test.ts",
      "src/runner/sandbox/layout-table.test.ts",
    ],
    pool: "threads",
  },
});
