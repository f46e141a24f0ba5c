import { defineConfig } from "vitest/config";

/**
 * Two projects: the main suite (files in parallel), then the disruptive one — tests that restart
 * services they started themselves, such as a private PostgreSQL, and the fleet test (network
 * namespaces, 2 replicas, 3 runner hosts, chaos; `npm run test:fleet` alone) — one file at a time,
 * after it (`npm test` runs them in that order).
 */
export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["test/**/*.disruptive.test.ts", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "disruptive",
          include: ["test/**/*.disruptive.test.ts"],
          fileParallelism: false,
        },
      },
    ],
  },
});
