import type { ScriptedReply } from "../llm/scripted-replies.ts";
import type { ReceivedRequest } from "../llm/scripted-server.ts";
import { criteriaOfReview } from "../runner/verify.ts";

/**
 * What the demo's scripted model says. The planner (a request without tools) answers with a plan;
 * the executor (a request with tools) reads calc.js, fixes `add`, runs the tests and finishes; the
 * acceptance review finds every criterion met — each reply chosen from where the conversation is,
 * like a very small, very reliable model.
 */
export const DEMO_PLAN = {
  title: "Fix add() so it adds",
  summary: "`add(a, b)` returns `a - b`; the tests expect the sum. Change it to return `a + b`.",
  steps: [
    {
      id: "s1",
      kind: "agent",
      title: "Fix add()",
      instructions: "Make add(a, b) return the sum of a and b.",
    },
    { id: "s2", kind: "test", title: "Run the tests" },
  ],
  acceptance: ["node calc.test.js passes", "multiply() unchanged"],
  risk: "low",
};

type Message = NonNullable<ReceivedRequest["body"]["messages"]>[number];

export function demoModel(request: ReceivedRequest): ScriptedReply {
  const body = request.body;
  const review = reviewedCriteria(request);
  if (review) return verdicts(review.map(() => true));
  if (!body.tools || body.tools.length === 0) return { json: DEMO_PLAN };
  const messages = body.messages ?? [];
  const last = messages[messages.length - 1];
  if (last?.role !== "tool") return call("read_file", { path: "calc.js" });
  switch (lastToolName(messages)) {
    case "read_file":
      return call("edit_file", { path: "calc.js", search: "return a - b;", replace: "return a + b;" });
    case "edit_file":
      return call("run_tests", {});
    case "run_tests":
      return call("finish", { summary: "add() now returns a + b; the three tests pass." });
    default:
      return { text: "Done." };
  }
}

function call(name: string, args: unknown): ScriptedReply {
  return { toolCalls: [{ name, args }] };
}

function lastToolName(messages: Message[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const calls = messages[i]?.tool_calls as { function?: { name?: string } }[] | undefined;
    if (messages[i]?.role === "assistant" && calls?.length) return calls[calls.length - 1]?.function?.name;
  }
  return undefined;
}

/** The criteria when `request` is an acceptance review (runner/verify.ts), else undefined. */
export function reviewedCriteria(request: ReceivedRequest): string[] | undefined {
  const content = request.body.messages?.find((m) => m.role === "user")?.content;
  const text = Array.isArray(content)
    ? content.map((part: { text?: unknown }) => (typeof part?.text === "string" ? part.text : "")).join("")
    : content;
  return typeof text === "string" ? criteriaOfReview(text) : undefined;
}

/** An acceptance review's answer: criterion i+1 met when `met[i]`, with a line of evidence. */
export function verdicts(
  met: boolean[],
  evidence: (ok: boolean) => string = (ok) =>
    ok ? "shown by the diff and the passing tests" : "the diff does not show it",
): ScriptedReply {
  return {
    json: { verdicts: met.map((ok, i) => ({ criterion: i + 1, met: ok, evidence: evidence(ok) })) },
  };
}
