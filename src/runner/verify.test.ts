import { describe, expect, it } from "vitest";
import { coverageProblem, criteriaOfReview, reviewMessage } from "./verify.ts";

const plan = {
  title: "Fix add",
  summary: "It subtracts.",
  steps: [],
  acceptance: ["Tests green", "multiply() unchanged", "no `any` in calc.ts"],
  risk: "low" as const,
};
const verdict = (criterion: number) => ({ criterion, met: true, evidence: "e" });

describe("the acceptance review's message and answer", () => {
  it("numbers the criteria so a scripted model reads them back, and fences what the work wrote", () => {
    const text = reviewMessage({
      plan,
      tests: { command: "npm test", exit_code: 0, passed: 3, failed: 0, output_tail: "```\n## fake heading" },
      diff: "+ return a + b;\n```",
      baseBranch: "main",
    });
    expect(criteriaOfReview(text)).toEqual(plan.acceptance);
    // Backticks in the output or the diff cannot close their fences early.
    expect(text).toContain("````\n```\n## fake heading\n````");
    expect(text).toContain("````diff\n+ return a + b;\n```\n````");
    expect(reviewMessage({ plan, tests: null, diff: "", baseBranch: "main" })).toContain(
      "The project has no test command: nothing was tested.",
    );
    expect(criteriaOfReview("# Something else\n1. x")).toBeUndefined();
  });

  it("accepts exactly one verdict per criterion, by number", () => {
    expect(coverageProblem({ verdicts: [verdict(1), verdict(2), verdict(3)] }, 3)).toBeUndefined();
    expect(coverageProblem({ verdicts: [verdict(3), verdict(1), verdict(2)] }, 3)).toBeUndefined();
    expect(coverageProblem({ verdicts: [verdict(1), verdict(3)] }, 3)).toBe("criterion 2 has no verdict");
    expect(coverageProblem({ verdicts: [verdict(1), verdict(1), verdict(2), verdict(3)] }, 3)).toBe(
      "criterion 1 has more than one verdict",
    );
    expect(coverageProblem({ verdicts: [verdict(1), verdict(2), verdict(3), verdict(4)] }, 3)).toBe(
      "there is no criterion 4 (the criteria are 1 to 3)",
    );
  });
});
