import type { BudgetMeter } from "../../core/budgets.ts";
import type { StuckDetector } from "../../core/stuck-detector.ts";
import { tracer } from "../../core/tracing.ts";
import type { ChatMessage, LlmProvider } from "../../llm/port.ts";
import type { CommandResult } from "../sandbox/sandbox.ts";
import { callTool, type ToolContext, toolSpecs } from "./tools.ts";

/**
 * One agent session: the executor model works a task with tools until it calls `finish`.
 *
 *   ask the model (one turn, budget-metered) ─▶ tool calls? ─ yes ─▶ run each, log it, feed the
 *        ▲                                        │                 results back, detect loops ─┐
 *        └────────────────────────────────────────┴─ no: nudge once to use tools or finish ◀───┘
 *
 * It ends when the model calls `finish`, when a budget runs out (`BudgetExceeded`), when the stuck
 * detector fires (`Stuck`), or when the run is aborted. Every tool call and result is a log line.
 * The conversation is kept across sessions of one run, so a fix session remembers the first.
 */
export interface AgentSession {
  provider: LlmProvider;
  system: string;
  /** The conversation so far; the new instruction is appended. */
  messages: ChatMessage[];
  tools: ToolContext;
  meter: BudgetMeter;
  stuck: StuckDetector;
  log: (level: "debug" | "info" | "warn" | "error", msg: string) => void;
  signal?: AbortSignal;
}

export interface AgentResult {
  summary: string;
  /** The last `run_tests` the agent ran itself, if any. */
  lastTests?: CommandResult;
}

const MAX_NUDGES = 2;
const LOG_CHARS = 2_000;

export async function runAgent(session: AgentSession, instruction: string): Promise<AgentResult> {
  const { provider, system, messages, tools, meter, stuck, log, signal } = session;
  messages.push({ role: "user", content: instruction });
  let nudges = 0;
  let lastTests: CommandResult | undefined;
  for (;;) {
    signal?.throwIfAborted();
    meter.check();
    const turn = await tracer().inSpan("gimo.agent.turn", {}, () =>
      provider.step({ system, messages, tools: toolSpecs(tools), signal }),
    );
    meter.addTurn(turn.usage);
    if (turn.text.trim()) log("info", `model: ${clip(turn.text)}`);
    messages.push({
      role: "assistant",
      content: turn.text,
      ...(turn.toolCalls.length ? { toolCalls: turn.toolCalls } : {}),
    });
    if (turn.toolCalls.length === 0) {
      if (++nudges > MAX_NUDGES)
        return { summary: turn.text.trim() || "(the model stopped without a summary)", lastTests };
      messages.push({
        role: "user",
        content:
          "Use the tools to make the change, run the tests, and call `finish` with a summary when done.",
      });
      continue;
    }
    let finished: { summary: string } | undefined;
    for (const call of turn.toolCalls) {
      signal?.throwIfAborted();
      log("info", `tool ${call.name} ${clip(call.rawArgs || JSON.stringify(call.args ?? {}), 500)}`);
      const outcome =
        call.args === undefined && call.rawArgs.trim() !== ""
          ? {
              content: `the arguments of ${call.name} are not valid JSON: ${clip(call.rawArgs, 200)}`,
              isError: true,
            }
          : await callTool(call.name, call.args, tools);
      log(outcome.isError ? "warn" : "debug", `→ ${clip(outcome.content)}`);
      if ("integration" in outcome && outcome.integration) {
        const o = outcome.integration;
        const http = o.http_status !== undefined ? `, HTTP ${o.http_status}` : "";
        log(
          o.ok ? "info" : "warn",
          `integration ${o.integration}.${o.operation}: ${o.status} in ${o.duration_ms} ms${http}`,
        );
      }
      messages.push({
        role: "tool",
        toolCallId: call.id,
        toolName: call.name,
        content: outcome.content,
        isError: outcome.isError,
      });
      if ("tests" in outcome && outcome.tests) lastTests = outcome.tests;
      if ("finished" in outcome && outcome.finished) finished = outcome.finished;
      stuck.record(call.name, call.args, outcome.content, outcome.isError);
    }
    if (finished) return { summary: finished.summary, lastTests };
  }
}

function clip(text: string, max = LOG_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
