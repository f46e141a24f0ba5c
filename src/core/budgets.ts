import { GimoError } from "./errors.ts";

/**
 * Budgets of a run (SPEC §4.1), enforced by the runner outside the model so a model cannot talk
 * its way past them: model turns, tokens, wall-clock seconds, and fix iterations of the
 * edit → test → fix loop. Project defaults, overridable per plan.
 */
export interface Budgets {
  max_turns: number;
  max_tokens: number;
  max_wall_seconds: number;
  max_fix_iterations: number;
}

export const DEFAULT_BUDGETS: Budgets = {
  max_turns: 60,
  max_tokens: 2_000_000,
  max_wall_seconds: 1_800,
  max_fix_iterations: 3,
};

export function effectiveBudgets(
  project: Partial<Budgets> | undefined,
  plan: Partial<Budgets> | undefined,
): Budgets {
  return { ...DEFAULT_BUDGETS, ...strip(project), ...strip(plan) };
}

function strip(b: Partial<Budgets> | undefined): Partial<Budgets> {
  return Object.fromEntries(Object.entries(b ?? {}).filter(([, v]) => typeof v === "number"));
}

export class BudgetExceeded extends GimoError {
  readonly budget: keyof Budgets;

  constructor(budget: keyof Budgets, message: string) {
    super("unprocessable", message, { budget });
    this.name = "BudgetExceeded";
    this.budget = budget;
  }
}

/** Counts what a run spends; `check` throws `BudgetExceeded` the moment a limit is passed. */
export class BudgetMeter {
  readonly limits: Budgets;
  readonly #startedAt: number;
  readonly #now: () => number;
  turns = 0;
  inputTokens = 0;
  outputTokens = 0;
  fixIterations = 0;

  constructor(limits: Budgets, now: () => number = Date.now) {
    this.limits = limits;
    this.#now = now;
    this.#startedAt = now();
  }

  get tokens(): number {
    return this.inputTokens + this.outputTokens;
  }

  get secondsLeft(): number {
    return Math.max(0, this.limits.max_wall_seconds - (this.#now() - this.#startedAt) / 1000);
  }

  addTurn(usage: { input_tokens: number; output_tokens: number }): void {
    this.turns += 1;
    this.inputTokens += usage.input_tokens;
    this.outputTokens += usage.output_tokens;
    this.check();
  }

  check(): void {
    const l = this.limits;
    if (this.turns > l.max_turns)
      throw new BudgetExceeded("max_turns", `the run used more than ${l.max_turns} model turns`);
    if (this.tokens > l.max_tokens) {
      throw new BudgetExceeded(
        "max_tokens",
        `the run used ${this.tokens} tokens, more than its budget of ${l.max_tokens}`,
      );
    }
    if (this.secondsLeft <= 0)
      throw new BudgetExceeded("max_wall_seconds", `the run took longer than ${l.max_wall_seconds} s`);
  }
}
