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

describe("what the stuck detector compares and says", () => {
  it("compares observations with their whitespace normalised, ends trimmed", () => {
    const d = new StuckDetector();
    d.record("read_file", { path: "a" }, "same  content", false);
    d.record("read_file", { path: "a" }, "same content\n", false);
    d.record("read_file", { path: "a" }, "same\tcontent  ", false);
    expect(() => d.record("read_file", { path: "a" }, "same content", false)).toThrow(
      "the agent repeated read_file with the same result 4 times",
    );
  });

  it("is a Stuck GimoError (unprocessable) naming the repeated error, cut to 200 characters", () => {
    const d = new StuckDetector();
    const long = `E${"x".repeat(300)}`;
    d.recordError(long);
    d.recordError(long);
    let caught: unknown;
    try {
      d.recordError(long);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Stuck);
    expect((caught as Stuck).name).toBe("Stuck");
    expect((caught as Stuck).code).toBe("unprocessable");
    expect((caught as Stuck).message).toBe(`the agent hit the same error 3 times: ${long.slice(0, 200)}`);
  });
});

describe("budget details", () => {
  it("ignores budget fields that are not numbers", () => {
    expect(
      effectiveBudgets({ max_turns: null, max_tokens: "5" } as never, { max_wall_seconds: undefined }),
    ).toEqual(DEFAULT_BUDGETS);
    expect(DEFAULT_BUDGETS).toEqual({
      max_turns: 60,
      max_tokens: 2_000_000,
      max_wall_seconds: 1_800,
      max_fix_iterations: 3,
    });
  });

  it("allows exactly the budget and names what ran out", () => {
    let now = 1_000;
    const meter = new BudgetMeter({ ...DEFAULT_BUDGETS, max_turns: 1, max_tokens: 100 }, () => now);
    meter.addTurn({ input_tokens: 60, output_tokens: 40 });
    expect(meter.tokens).toBe(100);
    now += 500;
    expect(meter.secondsLeft).toBe(DEFAULT_BUDGETS.max_wall_seconds - 0.5);
    let caught: unknown;
    try {
      meter.addTurn({ input_tokens: 0, output_tokens: 0 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BudgetExceeded);
    const e = caught as BudgetExceeded;
    expect([e.name, e.code, e.budget, e.message]).toEqual([
      "BudgetExceeded",
      "unprocessable",
      "max_turns",
      "the run used more than 1 model turns",
    ]);
    expect(e.details).toEqual({ budget: "max_turns" });
    const tokens = new BudgetMeter({ ...DEFAULT_BUDGETS, max_tokens: 100 }, () => now);
    try {
      tokens.addTurn({ input_tokens: 100, output_tokens: 1 });
    } catch (error) {
      expect((error as BudgetExceeded).budget).toBe("max_tokens");
    }
    const clock = new BudgetMeter({ ...DEFAULT_BUDGETS, max_wall_seconds: 2 }, () => now);
    now += 2_000;
    expect(clock.secondsLeft).toBe(0);
    expect(() => clock.check()).toThrow(expect.objectContaining({ budget: "max_wall_seconds" }));
  });
});
