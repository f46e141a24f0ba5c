import type { PlanContent } from "../contract/plan.ts";
import type { AcceptanceVerdict, Verification } from "../contract/run.ts";
import type { BudgetMeter } from "../core/budgets.ts";
import type { LlmProvider } from "../llm/port.ts";
import type { LoadedPrompts } from "../llm/prompts.ts";
import type { RunContext } from "./handler.ts";
import type { TestReport } from "./test-report.ts";
import { reviewAcceptance } from "./verify.ts";
import { type PreparedWorkspace, worktreeDiff } from "./workspace/workspace.ts";

/**
 * The acceptance reviews of one run and what they add up to. Each review asks a model to judge
 * every acceptance criterion against the diff and the test output (verify.ts); the last review's
 * verdicts stand. With no criteria there is nothing to judge; with no model to judge them (none
 * configured, or an agent CLI as the executor) the review is skipped, said once in the log, and
 * the run cannot be verified. A run is `verified` only when its tests ran and passed and every
 * criterion was judged met.
 */
export interface Verified {
  verified: boolean;
  verification: Verification;
}

export interface AcceptanceSetup {
  ctx: RunContext;
  ws: PreparedWorkspace;
  meter: BudgetMeter;
  prompts: LoadedPrompts;
  /** Why no model can judge (undefined when one can). */
  noModel(): Promise<string | undefined>;
  model(): Promise<LlmProvider>;
}

/** The diff an acceptance review reads, at most. */
const REVIEW_DIFF_BYTES = 200_000;

export class AcceptanceReviews {
  readonly #s: AcceptanceSetup;
  #verdicts: AcceptanceVerdict[] = [];
  #reviews = 0;
  #judgedBy: string | null = null;
  #unjudged: string | undefined;

  constructor(setup: AcceptanceSetup) {
    this.#s = setup;
  }

  /**
   * One acceptance review (its verdicts), or none: no criteria to judge, or no model to judge them.
   * A verdict GIMO cannot read fails the run (`verdict_invalid`).
   */
  async review(plan: PlanContent, tests: TestReport | null): Promise<AcceptanceVerdict[]> {
    const { ctx, ws, meter, prompts } = this.#s;
    if (plan.acceptance.length === 0) return [];
    const why = await this.#s.noModel();
    if (why) {
      if (this.#unjudged === undefined)
        ctx.log("warn", `the acceptance criteria are not judged: ${why}; the run cannot be verified`);
      this.#unjudged = why;
      return [];
    }
    const provider = await this.#s.model();
    if (this.#reviews === 0)
      ctx.log("info", `acceptance review by ${provider.label}, prompts ${prompts.prompt_hash}`);
    meter.check();
    const diff = await worktreeDiff(ws, REVIEW_DIFF_BYTES, { signal: ctx.signal });
    this.#verdicts = await reviewAcceptance({
      provider,
      prompts,
      plan,
      tests,
      diff,
      baseBranch: ws.baseBranch,
      onUsage: (usage) => meter.addTurn(usage),
      signal: ctx.signal,
    });
    this.#reviews += 1;
    this.#judgedBy = provider.label;
    for (const v of this.#verdicts)
      ctx.log(
        v.met ? "info" : "warn",
        `acceptance ${v.met ? "met" : "NOT met"}: ${v.criterion} — ${v.evidence}`,
      );
    return this.#verdicts;
  }

  /** `verified` and the verification record, as things stand. */
  outcome(plan: PlanContent, tests: TestReport | null): Verified {
    const reasons: string[] = [];
    if (!tests) reasons.push("the project has no test_command: nothing was tested");
    else if (tests.exit_code !== 0) reasons.push("the tests fail");
    if (this.#unjudged && plan.acceptance.length > 0)
      reasons.push(`the acceptance criteria were not judged: ${this.#unjudged}`);
    const unmet = this.#verdicts.filter((v) => !v.met).length;
    if (unmet > 0) reasons.push(`${unmet} acceptance criteri${unmet === 1 ? "on is" : "a are"} not met`);
    return {
      verified: reasons.length === 0,
      verification: {
        tests: tests ? (tests.exit_code === 0 ? "passed" : "failed") : "none",
        acceptance: this.#verdicts,
        judged_by: this.#reviews > 0 ? this.#judgedBy : null,
        prompt_hash: this.#reviews > 0 ? this.#s.prompts.prompt_hash : null,
        reviews: this.#reviews,
        reasons,
      },
    };
  }
}
