/**
 * Wire bodies of an OpenAI-compatible chat completion, built from a `ScriptedReply`: one JSON
 * completion, or the SSE chunks of a streamed one (text in pieces, tool-call arguments in pieces,
 * usage in a final chunk when asked). Quirks reproduce what real local servers send.
 */
export interface ScriptedToolCall {
  id?: string;
  name: string;
  /** Encoded as JSON; a string is sent as is (to script malformed arguments). */
  args: unknown;
}

export interface ScriptedReply {
  text?: string;
  /** Sent as the message content, JSON-encoded: a structured answer such as a plan. */
  json?: unknown;
  toolCalls?: ScriptedToolCall[];
  /** Default `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Answer with this HTTP error status instead of a completion. */
  status?: number;
  /** Error body; default `{"error":{"message":"scripted error <status>","type":"scripted_error"}}`. */
  error?: unknown;
  /** `Retry-After` header value: seconds, or an HTTP date string. */
  retryAfter?: number | string;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection without answering (a network error for the client). */
  hangUp?: boolean;
  quirks?: {
    /** First tool-call chunk has no name; the name comes in the next chunk (vLLM, llama.cpp). */
    toolNameLate?: boolean;
    /** Argument chunks after the first carry `"name": ""` (LM Studio). */
    blankToolNameInLaterChunks?: boolean;
    /** Tool calls without ids. */
    noToolCallIds?: boolean;
  };
}

export interface CompletionContext {
  id: string;
  model: string;
  created: number;
  promptTokens: number;
}

export function contentOf(reply: ScriptedReply): string {
  if (reply.json !== undefined) return JSON.stringify(reply.json);
  return reply.text ?? "";
}

function argsText(call: ScriptedToolCall): string {
  return typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {});
}

function callId(
  ctx: CompletionContext,
  reply: ScriptedReply,
  call: ScriptedToolCall,
  i: number,
): string | undefined {
  if (reply.quirks?.noToolCallIds) return undefined;
  return call.id ?? `call_${ctx.id.slice(-6)}_${i}`;
}

function usageOf(ctx: CompletionContext, reply: ScriptedReply) {
  const out = contentOf(reply).length + (reply.toolCalls ?? []).reduce((n, c) => n + argsText(c).length, 0);
  const usage = reply.usage ?? {
    prompt_tokens: ctx.promptTokens,
    completion_tokens: Math.max(1, Math.ceil(out / 4)),
  };
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

function finishOf(reply: ScriptedReply): string {
  return reply.finishReason ?? ((reply.toolCalls ?? []).length > 0 ? "tool_calls" : "stop");
}

export function completionBody(ctx: CompletionContext, reply: ScriptedReply): unknown {
  const content = contentOf(reply);
  const calls = reply.toolCalls ?? [];
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: content === "" && calls.length > 0 ? null : content,
          ...(calls.length > 0
            ? {
                tool_calls: calls.map((call, i) => ({
                  id: callId(ctx, reply, call, i),
                  type: "function",
                  function: { name: call.name, arguments: argsText(call) },
                })),
              }
            : {}),
        },
        finish_reason: finishOf(reply),
      },
    ],
    usage: usageOf(ctx, reply),
  };
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The `data:` payloads of a streamed completion, `[DONE]` included. */
export function completionChunks(
  ctx: CompletionContext,
  reply: ScriptedReply,
  includeUsage: boolean,
): string[] {
  const chunk = (delta: unknown, finish: string | null = null) =>
    JSON.stringify({
      id: ctx.id,
      object: "chat.completion.chunk",
      created: ctx.created,
      model: ctx.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  const out = [chunk({ role: "assistant", content: "" })];
  for (const piece of pieces(contentOf(reply), 16)) out.push(chunk({ content: piece }));
  (reply.toolCalls ?? []).forEach((call, index) => {
    const id = callId(ctx, reply, call, index);
    const [first = "", ...rest] = pieces(argsText(call), 12);
    const quirks = reply.quirks ?? {};
    const head = { index, ...(id ? { id } : {}), type: "function" };
    if (quirks.toolNameLate) {
      out.push(chunk({ tool_calls: [{ ...head, function: { name: null, arguments: first } }] }));
      const [second = "", ...others] = rest;
      out.push(chunk({ tool_calls: [{ index, function: { name: call.name, arguments: second } }] }));
      rest.splice(0, rest.length, ...others);
    } else {
      out.push(chunk({ tool_calls: [{ ...head, function: { name: call.name, arguments: first } }] }));
    }
    for (const piece of rest) {
      const fn = quirks.blankToolNameInLaterChunks ? { name: "", arguments: piece } : { arguments: piece };
      out.push(chunk({ tool_calls: [{ index, function: fn }] }));
    }
  });
  out.push(chunk({}, finishOf(reply)));
  if (includeUsage) {
    out.push(
      JSON.stringify({
        id: ctx.id,
        object: "chat.completion.chunk",
        created: ctx.created,
        model: ctx.model,
        choices: [],
        usage: usageOf(ctx, reply),
      }),
    );
  }
  out.push("[DONE]");
  return out;
}
