import { z } from "zod";
import type { PlanContent } from "../contract/plan.ts";
import type { AcceptanceVerdict } from "../contract/run.ts";
import { StructuredOutputInvalid } from "../llm/errors.ts";
import type { ChatMessage, LlmProvider, Usage } from "../llm/port.ts";
import type { LoadedPrompts } from "../llm/prompts.ts";
import { RunFailed } from "./run-failed.ts";
import type { TestReport } from "./test-report.ts";

/**
 * The acceptance review: after the tests, a model judges each of the plan's acceptance criteria
 * against the change (the worktree's diff against the base branch) and the test output, and
 * answers one verdict per criterion with its evidence.
 *
 * The answer is structured (`acceptance_verdicts`, a JSON object checked against a schema) and
 * must name every criterion by its number exactly once. An answer that does not fit — not JSON,
 * the wrong shape, a criterion missing or twice — is shown back to the model once with what is
 * wrong; a second one that does not fit fails the run `verdict_invalid`. Nothing is guessed: a
 * verdict GIMO cannot read is never taken for "met".
 */
export const VERDICTS_SCHEMA_NAME = "acceptance_verdicts";
const ATTEMPTS = 2;
const CRITERIA_HEADING = "## Acceptance criteria";

const Answer = z.object({
  verdicts: z
    .array(
      z.object({
        criterion: z.number().int().min(1).max(100),
        met: z.boolean(),
        evidence: z.string().trim().min(1).max(2_000),
      }),
    )
    .min(1)
    .max(100),
});
type Answer = z.infer<typeof Answer>;

export interface ReviewInput {
  provider: LlmProvider;
  prompts: LoadedPrompts;
  plan: PlanContent;
  tests: TestReport | null;
  diff: string;
  baseBranch: string;
  /** Counts each model call against the run's budgets (throws when one is spent). */
  onUsage: (usage: Usage) => void;
  signal?: AbortSignal;
}

export async function reviewAcceptance(input: ReviewInput): Promise<AcceptanceVerdict[]> {
  const criteria = input.plan.acceptance;
  const messages: ChatMessage[] = [{ role: "user", content: reviewMessage(input) }];
  let problem = "";
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let raw: string;
    try {
      const answer = await input.provider.generateObject({
        system: input.prompts.system,
        messages,
        schema: Answer,
        schemaName: VERDICTS_SCHEMA_NAME,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      input.onUsage(answer.usage);
      raw = answer.raw;
      const missing = coverageProblem(answer.value, criteria.length);
      if (!missing) return verdictsOf(answer.value, criteria);
      problem = missing;
    } catch (error) {
      if (!(error instanceof StructuredOutputInvalid)) throw error;
      input.onUsage(error.usage);
      raw = error.raw;
      problem = error.problem;
    }
    messages.push(
      { role: "assistant", content: raw },
      {
        role: "user",
        content: `That answer was rejected: ${problem}\n\nReply again with the complete ${VERDICTS_SCHEMA_NAME}: one verdict for each criterion 1 to ${criteria.length}, as one JSON object, and nothing else.`,
      },
    );
  }
  throw new RunFailed({
    code: "verdict_invalid",
    message: `the model's acceptance verdict could not be read (${ATTEMPTS} answers): ${problem}`,
  });
}

/** What is wrong with an answer that parsed: a criterion without a verdict, one judged twice, an unknown one. */
export function coverageProblem(answer: Answer, count: number): string | undefined {
  const seen = new Map<number, number>();
  for (const v of answer.verdicts) seen.set(v.criterion, (seen.get(v.criterion) ?? 0) + 1);
  const unknown = [...seen.keys()].filter((n) => n > count);
  if (unknown.length) return `there is no criterion ${unknown.join(", ")} (the criteria are 1 to ${count})`;
  const twice = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  if (twice.length) return `criterion ${twice.join(", ")} has more than one verdict`;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !seen.has(n));
  if (missing.length) return `criterion ${missing.join(", ")} has no verdict`;
  return undefined;
}

function verdictsOf(answer: Answer, criteria: string[]): AcceptanceVerdict[] {
  const byNumber = new Map(answer.verdicts.map((v) => [v.criterion, v]));
  return criteria.map((criterion, i) => {
    const v = byNumber.get(i + 1) as Answer["verdicts"][number];
    return { criterion, met: v.met, evidence: v.evidence };
  });
}

/** The reviewer's user message: the plan, its numbered criteria, the tests and the change. */
export function reviewMessage(input: Pick<ReviewInput, "plan" | "tests" | "diff" | "baseBranch">): string {
  const { plan, tests } = input;
  const testPart = tests
    ? [
        `\`${tests.command}\` exited ${tests.exit_code ?? "(timed out)"}. The end of its output:`,
        fence(tests.output_tail || "(no output)"),
      ].join("\n")
    : "The project has no test command: nothing was tested.";
  return [
    `# Acceptance review: ${plan.title}`,
    plan.summary,
    CRITERIA_HEADING,
    plan.acceptance.map((c, i) => `${i + 1}. ${c}`).join("\n"),
    "## Tests",
    testPart,
    `## The change (unified diff of the worktree against ${input.baseBranch})`,
    fence(input.diff.trim() || "(no change)", "diff"),
    `Judge each criterion 1 to ${plan.acceptance.length}.`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

/** The criteria of a review request, for scripted models (the demo's and the tests'). */
export function criteriaOfReview(text: string): string[] | undefined {
  if (!text.includes(`# Acceptance review: `)) return undefined;
  const start = text.indexOf(CRITERIA_HEADING);
  if (start < 0) return undefined;
  const block = text.slice(start + CRITERIA_HEADING.length).split("\n## ")[0] ?? "";
  return [...block.matchAll(/^\d+\. (.*)$/gm)].map((m) => m[1] as string);
}

/** A fenced block whose fence no line of `text` can close. */
function fence(text: string, lang = ""): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const bar = "`".repeat(longest + 1);
  return `${bar}${lang}\n${text}\n${bar}`;
}
