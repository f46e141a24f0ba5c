import type { ScriptedReply } from "../llm/scripted-replies.ts";
import type { ReceivedRequest } from "../llm/scripted-server.ts";

/**
 * What the demo's scripted model says. The planner (a request without tools) answers with a plan;
 * the executor (a request with tools) reads calc.js, fixes `add`, runs the tests and finishes — each
 * reply chosen from where the conversation is, like a very small, very reliable model.
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
