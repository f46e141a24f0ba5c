import type { ZodType } from "zod";
import { GimoError } from "../core/errors.ts";
import { StructuredOutputInvalid } from "./errors.ts";
import { addUsage, type ChatMessage, type LlmProvider, noUsage, type Usage } from "./port.ts";

/**
 * Drafting a plan with the planner model. The model is shown the loaded prompts (system), then one
 * user message: the project plan, the repository context, recent runs, the previous plan and the
 * reviewer's feedback for a revision, and last the request itself. The answer is validated against
 * the schema passed in (normally `PlanContent`); an invalid answer is handed back to the model once
 * with what was wrong, and a second invalid answer is `PlanInvalid`. Provider failures
 * (`ProviderUnavailable`, `ProviderRateLimited`, `ProviderRejected`) pass through untouched.
 */
export interface PlannerRequest {
  /** What the person asked for. */
  prompt: string;
  /** For a revision: the plan being revised and the reviewer's feedback. */
  revision?: { previous_plan: unknown; feedback: string };
  /** Extra instructions for this call, e.g. "propose up to 3 independent tasks" for propose. */
  instructions?: string;
}

export interface RunSummary {
  id: string;
  status: string;
  title?: string;
  error?: string;
  summary?: string;
}

export interface PlanDoc {
  objective?: string;
  context?: string;
  constraints?: string[];
}

export interface DraftPlanInput<T> {
  provider: LlmProvider;
  /** Usually the result of `loadPrompts("planner", …)`. */
  prompts: { system: string; prompt_hash: string };
  request: PlannerRequest;
  repoContext?: string | undefined;
  lastRuns?: RunSummary[] | undefined;
  planDoc?: PlanDoc | undefined;
  schema: ZodType<T>;
  /** Names the object for the model and in errors; default "plan". */
  schemaName?: string;
  signal?: AbortSignal;
}

export interface DraftPlanResult<T> {
  plan: T;
  /** Tokens of every attempt together. */
  usage: Usage;
  prompt_hash: string;
  attempts: number;
  raw: string;
}

export class PlanInvalid extends GimoError {
  readonly problem: string;
  readonly raw: string;
  readonly usage: Usage;

  constructor(problem: string, raw: string, usage: Usage, attempts: number) {
    super(
      "unprocessable",
      `the planner did not produce a valid plan after ${attempts} attempts: ${problem}`,
      {
        problem,
        attempts,
        raw: raw.length > 2_000 ? `${raw.slice(0, 2_000)}…` : raw,
      },
    );
    this.name = "PlanInvalid";
    this.problem = problem;
    this.raw = raw;
    this.usage = usage;
  }
}

const maxAttempts = 2;
const maxContextChars = 60_000;

export async function draftPlan<T>(input: DraftPlanInput<T>): Promise<DraftPlanResult<T>> {
  const schemaName = input.schemaName ?? "plan";
  const messages: ChatMessage[] = [{ role: "user", content: plannerMessage(input) }];
  let usage = noUsage();
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await input.provider.generateObject({
        system: input.prompts.system,
        messages,
        schema: input.schema,
        schemaName,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      usage = addUsage(usage, result.usage);
      return {
        plan: result.value,
        usage,
        prompt_hash: input.prompts.prompt_hash,
        attempts: attempt,
        raw: result.raw,
      };
    } catch (error) {
      if (!(error instanceof StructuredOutputInvalid)) throw error;
      usage = addUsage(usage, error.usage);
      if (attempt >= maxAttempts) throw new PlanInvalid(error.problem, error.raw, usage, attempt);
      messages.push(
        { role: "assistant", content: error.raw },
        {
          role: "user",
          content:
            `That answer was rejected: ${error.problem}\n\n` +
            `Reply again with the complete, corrected ${schemaName} as one JSON object, and nothing else.`,
        },
      );
    }
  }
}

/** The planner's user message; sections in a fixed order, the request last. */
export function plannerMessage(
  input: Pick<DraftPlanInput<unknown>, "request" | "repoContext" | "lastRuns" | "planDoc">,
) {
  const sections: string[] = [];
  const doc = input.planDoc;
  if (doc && (doc.objective || doc.context || (doc.constraints ?? []).length > 0)) {
    const parts = ["## Project plan"];
    if (doc.objective) parts.push(`Objective: ${doc.objective}`);
    if (doc.context) parts.push(`### Context\n${doc.context.trim()}`);
    if (doc.constraints?.length)
      parts.push(`### Constraints\n${doc.constraints.map((c) => `- ${c}`).join("\n")}`);
    sections.push(parts.join("\n\n"));
  }
  if (input.repoContext?.trim()) sections.push(`## Repository\n\n${clip(input.repoContext.trim())}`);
  if (input.lastRuns?.length) {
    const lines = input.lastRuns.map((run) => {
      const head = `- ${run.id} ${run.status}${run.title ? ` — ${run.title}` : ""}`;
      const tail = [run.error && `error: ${run.error}`, run.summary].filter(Boolean).join("; ");
      return tail ? `${head}: ${tail}` : head;
    });
    sections.push(`## Recent runs (newest first)\n\n${lines.join("\n")}`);
  }
  const { request } = input;
  if (request.revision) {
    sections.push(
      "## Plan to revise\n\n" +
        "A reviewer asked for changes to this plan. Apply the feedback below; keep everything it does not question.\n\n" +
        `\`\`\`json\n${JSON.stringify(request.revision.previous_plan, null, 2)}\n\`\`\`\n\n` +
        `### Reviewer feedback\n\n${request.revision.feedback.trim()}`,
    );
  }
  if (request.instructions?.trim())
    sections.push(`## Instructions for this call\n\n${request.instructions.trim()}`);
  sections.push(`## Request\n\n${request.prompt.trim()}`);
  return sections.join("\n\n");
}

function clip(text: string): string {
  if (text.length <= maxContextChars) return text;
  return `${text.slice(0, maxContextChars)}\n\n[… repository context truncated at ${maxContextChars} characters]`;
}
