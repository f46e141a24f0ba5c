import { describe, expect, it } from "vitest";
import { BudgetExceeded, BudgetMeter, DEFAULT_BUDGETS, effectiveBudgets } from "./budgets.ts";
import { Stuck, StuckDetector } from "./stuck-detector.ts";

describe("the stuck detector", () => {
  it("stops the 4th identical action with an identical observation", () => {
    const d = new StuckDetector();
    for (let i = 0; i < 3; i++) d.record("read_file", { path: "a.ts" }, "same content", false);
    expect(() => d.record("read_file", { path: "a.ts" }, "same content", false)).toThrow(Stuck);
  });

  it("lets the same action through when its observation changes (progress)", () => {
    const d = new StuckDetector();
    for (let i = 0; i < 10; i++)
      expect(() => d.record("run_tests", {}, `failures: ${10 - i}`, false)).not.toThrow();
    // ...while a result seen for the 4th time is not progress, whatever came between.
    for (let i = 0; i < 3; i++) expect(() => d.record("run_tests", {}, "failures: 0", false)).not.toThrow();
    expect(() => d.record("run_tests", {}, "failures: 0", false)).toThrow(Stuck);
  });

  it("stops on the 3rd identical error, whatever the action", () => {
    const d = new StuckDetector();
    d.record("edit_file", { path: "a" }, "search text not found", true);
    d.record("edit_file", { path: "b" }, "search text  not found", true);
    expect(() => d.record("edit_file", { path: "c" }, "search text not found", true)).toThrow(
      /same error 3 times/,
    );
  });
});

describe("budgets", () => {
  it("plan overrides project overrides defaults", () => {
    expect(effectiveBudgets({ max_turns: 10 }, { max_turns: 5, max_tokens: 100_000 })).toEqual({
      ...DEFAULT_BUDGETS,
      max_turns: 5,
      max_tokens: 100_000,
    });
  });

  it("the meter throws the moment a limit is passed", () => {
    let now = 0;
    const meter = new BudgetMeter(
      { ...DEFAULT_BUDGETS, max_turns: 2, max_tokens: 1_000, max_wall_seconds: 10 },
      () => now,
    );
    meter.addTurn({ input_tokens: 100, output_tokens: 100 });
    meter.addTurn({ input_tokens: 100, output_tokens: 100 });
    expect(() => meter.addTurn({ input_tokens: 1, output_tokens: 1 })).toThrow(BudgetExceeded);
    const tokens = new BudgetMeter({ ...DEFAULT_BUDGETS, max_tokens: 1_000 }, () => now);
    expect(() => tokens.addTurn({ input_tokens: 900, output_tokens: 200 })).toThrow(
      /more than its budget of 1000/,
    );
    const clock = new BudgetMeter({ ...DEFAULT_BUDGETS, max_wall_seconds: 10 }, () => now);
    now = 11_000;
    expect(() => clock.check()).toThrow(/longer than 10 s/);
  });
});
