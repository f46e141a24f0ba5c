import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  defaultRunAdvice,
  isRunFailureCode,
  runAdvice,
  runError,
  runFailure,
  runFailureCodes,
  runFailures,
} from "../src/core/run-failures.ts";
import { ForgeError, type ForgeErrorCode } from "../src/runner/forge/http.ts";

/**
 * The run-failure table (src/core/run-failures.ts) is the one list of a run's `error.code`s. Here:
 * every code the PL/pgSQL functions write is in it (TypeScript producers are held by the compiler),
 * and what it says about retrying is what the runner reports.
 */

const root = join(import.meta.dirname, "..");

async function storeSources(): Promise<string[]> {
  const entries = await readdir(join(root, "src/store"), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => join(e.parentPath, e.name));
}

describe("the run-failure table", () => {
  it("holds every code the PostgreSQL functions write", async () => {
    const written = new Set<string>();
    let bodies = 0;
    for (const file of await storeSources()) {
      const text = await readFile(file, "utf8");
      for (const [, body] of text.matchAll(/\$fn\$([\s\S]*?)\$fn\$/g)) {
        bodies += 1;
        for (const [, code] of (body as string).matchAll(/"code"\s*:\s*"([^"]+)"/g))
          written.add(code as string);
      }
    }
    expect(bodies).toBeGreaterThan(5);
    expect([...written]).toContain("cancelled");
    for (const code of written) expect(isRunFailureCode(code), code).toBe(true);
  });

  it("marks retryable only the failures of the infrastructure", () => {
    const retryable = runFailureCodes.filter((c) => runFailures[c].retryable).sort();
    expect(retryable).toEqual([
      "forge_rate_limited",
      "forge_timeout",
      "forge_unavailable",
      "lease_expired",
      "provider_rate_limited",
      "provider_unavailable",
      "runner_stopping",
    ]);
    expect(runFailure("provider_unavailable", "down")).toEqual({
      code: "provider_unavailable",
      message: "down",
      retryable: true,
    });
    expect(runFailure("tests_failed")).toEqual({
      code: "tests_failed",
      message: runFailures.tests_failed.message,
    });
    expect(runError("lease_expired", "gone")).toEqual({ code: "lease_expired", message: "gone" });
    expect(isRunFailureCode("toString")).toBe(false);
  });

  it("gives every forge error code a row, and the forge error its retryability from it", () => {
    const codes: ForgeErrorCode[] = [
      "forge_auth",
      "forge_not_found",
      "forge_rejected",
      "forge_rate_limited",
      "forge_unavailable",
      "forge_timeout",
      "forge_bad_response",
      "forge_config",
      "forge_refused",
    ];
    for (const code of codes) {
      expect(new ForgeError(code, "github", "x").retryable, code).toBe(runFailures[code].retryable);
    }
  });

  it("advises by code, naming the run", () => {
    expect(runAdvice("approval_drift", "run_1")).toMatch(/propose it again/);
    expect(runAdvice("stuck", "run_1")).toBe(runAdvice("budget_exceeded", "run_1"));
    expect(runAdvice("verdict_invalid", "run_1")).toContain("logs of run_1");
    expect(runAdvice("policy_refused", "run_1")).toMatch(/policy refused/);
    expect(runAdvice("tests_failed", "run_1")).toBe(defaultRunAdvice.replaceAll("{run}", "run_1"));
    expect(runAdvice("tests_failed", "run_1")).toContain("POST /ops/runs/run_1/requeue");
    expect(runAdvice("something_else", "run_2")).toContain("logs of run_2");
  });
});
