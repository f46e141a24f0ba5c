import { describe, expect, it } from "vitest";
import { GimoError } from "./errors.ts";
import { DEFAULT_SANDBOX_LIMITS, effectiveLimits } from "./sandbox-limits.ts";

describe("sandbox limits", () => {
  it("are the documented defaults when nobody sets any", () => {
    expect(effectiveLimits({})).toEqual({
      max_processes: 512,
      max_memory_mb: 2_048,
      max_file_mb: 1_024,
      max_open_files: 4_096,
      max_workspace_mb: 10_240,
      max_commit_mb: 100,
    });
    expect(DEFAULT_SANDBOX_LIMITS.max_commit_mb).toBe(100);
  });

  it("take the project's limits, and a plan's lower ones", () => {
    const limits = effectiveLimits({
      project: { max_processes: 100, max_commit_mb: 10 },
      plan: { max_processes: 50, max_memory_mb: 512 },
    });
    expect(limits).toEqual({
      ...DEFAULT_SANDBOX_LIMITS,
      max_processes: 50,
      max_commit_mb: 10,
      max_memory_mb: 512,
    });
  });

  it("let a plan ask for exactly the ceiling, and refuse one above it as forbidden", () => {
    expect(effectiveLimits({ project: { max_file_mb: 10 }, plan: { max_file_mb: 10 } }).max_file_mb).toBe(10);
    let caught: unknown;
    try {
      effectiveLimits({ project: { max_file_mb: 10 }, plan: { max_file_mb: 11 } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GimoError);
    expect((caught as GimoError).code).toBe("forbidden");
    expect((caught as GimoError).message).toBe(
      "the plan asks for max_file_mb 11, above the project's maximum of 10 (an admin can raise sandbox.max_limits)",
    );
    expect((caught as GimoError).details).toEqual({ limit: "max_file_mb", asked: 11, maximum: 10 });
  });

  it("use the project's max_limits as the ceiling when set, above or below its limits", () => {
    const sources = { project: { max_memory_mb: 1_000 }, projectMax: { max_memory_mb: 4_000 } };
    expect(effectiveLimits({ ...sources, plan: { max_memory_mb: 4_000 } }).max_memory_mb).toBe(4_000);
    expect(effectiveLimits(sources).max_memory_mb).toBe(1_000);
    expect(() => effectiveLimits({ ...sources, plan: { max_memory_mb: 4_001 } })).toThrow(/maximum of 4000/);
    expect(() =>
      effectiveLimits({ projectMax: { max_open_files: 100 }, plan: { max_open_files: 101 } }),
    ).toThrow(/max_open_files 101/);
  });

  it("ignore values that are not finite numbers", () => {
    const limits = effectiveLimits({
      project: {
        max_processes: Number.NaN,
        max_memory_mb: "9" as never,
        max_file_mb: Number.POSITIVE_INFINITY,
      },
      projectMax: { max_processes: null as never },
      plan: { max_open_files: "1" as never },
    });
    expect(limits).toEqual(DEFAULT_SANDBOX_LIMITS);
    expect(() => effectiveLimits({ plan: { max_processes: 513 } })).toThrow(/maximum of 512/);
  });
});
