import { defineConfig } from "vitest/config";

/**
 * The unit tests StrykerJS runs against each mutant of the safety-critical pure modules
 * (`npm run test:mutation`, stryker.config.json). Only fast, in-process tests: a mutant costs one
 * re-run of the tests that cover it, so nothing here starts a server, a database or a sandbox.
 */
export default defineConfig({
  test: {
    include: ["src/core/**/*.test.ts", "src/runner/sandbox/layout.test.ts"],
    pool: "threads",
  },
});
