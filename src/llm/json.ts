import { type ZodError, type ZodType, z } from "zod";

/**
 * JSON helpers for structured output: the JSON Schema a model is shown, tolerant extraction of a
 * JSON value from what a model wrote (local models like code fences and preambles), and a readable
 * account of validation errors that can be handed back to the model.
 */

/** The JSON Schema of a zod schema as a model should see it: input shape, no `$schema`. */
export function jsonSchemaOf(schema: ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

export type Extracted = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Finds the JSON value in a model's text: the whole text; else a fenced code block; else the first
 * balanced `{…}` or `[…]` span that parses. Reasoning blocks (`<think>…</think>`, which some local
 * models put in the content) are ignored.
 */
export function extractJson(text: string): Extracted {
  const trimmed = text.replace(/<think>[\s\S]*?<\/think>/g, "").trim();
  if (trimmed === "") return { ok: false, problem: "the answer is empty; expected a JSON object" };
  const candidates = [trimmed];
  for (const fence of trimmed.matchAll(/```[A-Za-z]*\s*\n?([\s\S]*?)```/g)) {
    if (fence[1] !== undefined) candidates.push(fence[1].trim());
  }
  candidates.push(...balancedSpans(trimmed));
  let firstError = "";
  for (const candidate of candidates) {
    try {
      return { ok: true, value: JSON.parse(candidate) };
    } catch (error) {
      firstError ||= error instanceof Error ? error.message : String(error);
    }
  }
  return { ok: false, problem: `the answer is not valid JSON (${firstError})` };
}

/**
 * Spans from an opening `{`/`[` to its matching closer (brackets inside strings do not count), for
 * the first 40 openers: bounded work however long and messy the text.
 */
function balancedSpans(text: string): string[] {
  const spans: string[] = [];
  let openers = 0;
  for (let start = 0; start < text.length && openers < 40; start++) {
    const open = text[start];
    if (open !== "{" && open !== "[") continue;
    openers++;
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === "\\") i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === "{" || ch === "[") depth++;
      else if (ch === "}" || ch === "]") {
        depth--;
        if (depth === 0) {
          spans.push(text.slice(start, i + 1));
          break;
        }
      }
    }
  }
  return spans;
}

/** `steps.0.instructions: Too small…; title: Required` — one line per issue, at most 20. */
export function describeZodError(error: ZodError): string {
  const lines = error.issues.slice(0, 20).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
    return `${path}: ${issue.message}`;
  });
  if (error.issues.length > 20) lines.push(`… and ${error.issues.length - 20} more`);
  return lines.join("; ");
}

export function parseArgs(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
