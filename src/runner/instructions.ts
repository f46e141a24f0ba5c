import type { PlanContent } from "../contract/plan.ts";
import type { AcceptanceVerdict } from "../contract/run.ts";
import type { TestReport } from "./test-report.ts";

/** What the executor tells its agent: a plan step, or a failing test run to fix. */
export function stepInstruction(plan: PlanContent, title: string, instructions: string): string {
  return [
    `# Task: ${plan.title}`,
    plan.summary,
    plan.acceptance.length ? `Acceptance criteria:\n${plan.acceptance.map((a) => `- ${a}`).join("\n")}` : "",
    `## Step: ${title}`,
    instructions,
    "Work in the repository with the tools. Run the tests. Call `finish` with a summary when this step is done.",
  ]
    .filter(Boolean)
    .join("\n\n");
}

export function fixInstruction(report: TestReport): string {
  return [
    `The project's tests fail (\`${report.command}\`, exit ${report.exit_code}). Their output ends with:`,
    "```",
    report.output_tail,
    "```",
    "Analyse the failure, fix the code (not the tests, unless a test is wrong), run the tests, and call `finish`.",
  ].join("\n");
}

export function acceptanceFixInstruction(unmet: AcceptanceVerdict[]): string {
  return [
    "The tests pass, but a review of your change against the plan's acceptance criteria found these not met:",
    unmet.map((v) => `- ${v.criterion}\n  Reviewer's evidence: ${v.evidence}`).join("\n"),
    "Change the work so that every criterion holds, run the tests, and call `finish` with what you changed.",
  ].join("\n\n");
}
