import { contentOf, type ScriptedReply, type ScriptedToolCall } from "./scripted-replies.ts";

/**
 * The scripted model server's other dialects: the same `ScriptedReply` answered as the OpenAI
 * Responses API (`POST …/responses`, Codex), Anthropic Messages (`POST …/messages`, Claude Code) or
 * Gemini (`POST …/models/{model}:generateContent` and `:streamGenerateContent`, Gemini CLI). Each
 * dialect gives a whole JSON answer, or the server-sent events of a streamed one, and reads the
 * request into a `ScriptedTurn`: which tools were offered and what the tools answered so far, so
 * one script can drive an agent whatever API it speaks.
 */
export type ScriptedApi = "chat" | "responses" | "messages" | "gemini";

export interface ScriptedTurn {
  api: ScriptedApi;
  /** Names of the tools the request offers. */
  tools: string[];
  /** What each tool call answered so far, in order (text, or JSON for structured answers). */
  toolOutputs: string[];
}

export interface WireContext {
  id: string;
  model: string;
  created: number;
  promptTokens: number;
}

/** One server-sent event: `event:` (when the dialect names its events) and `data:`. */
export interface SseEvent {
  event?: string;
  data: unknown;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v ?? ""));

/** Which dialect a request path speaks, or undefined. */
export function apiOf(path: string): ScriptedApi | undefined {
  if (path.endsWith("/chat/completions")) return "chat";
  if (path.endsWith("/responses")) return "responses";
  if (path.endsWith("/messages")) return "messages";
  if (/:(stream)?generateContent$/i.test(path)) return "gemini";
  return undefined;
}

export function turnOf(api: ScriptedApi, body: Json): ScriptedTurn {
  const tools: string[] = [];
  const toolOutputs: string[] = [];
  if (api === "chat") {
    for (const t of list(body.tools)) tools.push(text(obj(obj(t).function).name));
    for (const m of list(body.messages)) if (obj(m).role === "tool") toolOutputs.push(text(obj(m).content));
  } else if (api === "responses") {
    for (const t of list(body.tools)) tools.push(text(obj(t).name ?? obj(t).type));
    for (const item of list(body.input)) {
      const i = obj(item);
      if (String(i.type).endsWith("_call_output")) toolOutputs.push(text(i.output));
    }
  } else if (api === "messages") {
    for (const t of list(body.tools)) tools.push(text(obj(t).name));
    for (const m of list(body.messages))
      for (const block of list(obj(m).content)) {
        const b = obj(block);
        if (b.type !== "tool_result") continue;
        toolOutputs.push(
          Array.isArray(b.content) ? b.content.map((c) => text(obj(c).text)).join("\n") : text(b.content),
        );
      }
  } else {
    for (const t of list(body.tools))
      for (const f of list(obj(t).functionDeclarations)) tools.push(text(obj(f).name));
    for (const c of list(body.contents))
      for (const part of list(obj(c).parts)) {
        const r = obj(part).functionResponse;
        if (r) toolOutputs.push(text(obj(r).response));
      }
  }
  return { api, tools, toolOutputs };
}

function argsObject(call: ScriptedToolCall): unknown {
  if (typeof call.args !== "string") return call.args ?? {};
  try {
    return JSON.parse(call.args);
  } catch {
    return {};
  }
}
const argsText = (call: ScriptedToolCall) =>
  typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {});

function tokens(ctx: WireContext, reply: ScriptedReply) {
  const out = contentOf(reply).length + (reply.toolCalls ?? []).reduce((n, c) => n + argsText(c).length, 0);
  return {
    input: reply.usage?.prompt_tokens ?? ctx.promptTokens,
    output: reply.usage?.completion_tokens ?? Math.max(1, Math.ceil(out / 4)),
  };
}

function pieces(s: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

const callId = (ctx: WireContext, call: ScriptedToolCall, i: number) =>
  call.id ?? `call_${ctx.id.slice(-6)}_${i}`;

// ───────────────────────────── OpenAI Responses ─────────────────────────────

function responseItems(ctx: WireContext, reply: ScriptedReply): Json[] {
  const items: Json[] = [];
  const content = contentOf(reply);
  if (content) {
    items.push({
      type: "message",
      id: `msg_${ctx.id}`,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: content, annotations: [] }],
    });
  }
  (reply.toolCalls ?? []).forEach((call, i) => {
    items.push({
      type: "function_call",
      id: `fc_${ctx.id}_${i}`,
      status: "completed",
      call_id: callId(ctx, call, i),
      name: call.name,
      arguments: argsText(call),
    });
  });
  return items;
}

function responseObject(ctx: WireContext, reply: ScriptedReply, output: Json[]): Json {
  const t = tokens(ctx, reply);
  return {
    id: `resp_${ctx.id}`,
    object: "response",
    created_at: ctx.created,
    model: ctx.model,
    status: "completed",
    output,
    usage: {
      input_tokens: t.input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: t.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: t.input + t.output,
    },
  };
}

export function responsesBody(ctx: WireContext, reply: ScriptedReply): unknown {
  return responseObject(ctx, reply, responseItems(ctx, reply));
}

export function responsesEvents(ctx: WireContext, reply: ScriptedReply): SseEvent[] {
  let seq = 0;
  const ev = (type: string, data: Json): SseEvent => ({
    event: type,
    data: { type, sequence_number: seq++, ...data },
  });
  const items = responseItems(ctx, reply);
  const started = { ...responseObject(ctx, reply, []), status: "in_progress" };
  const out = [
    ev("response.created", { response: started }),
    ev("response.in_progress", { response: started }),
  ];
  items.forEach((item, output_index) => {
    if (item.type === "message") {
      out.push(ev("response.output_item.added", { output_index, item: { ...item, content: [] } }));
      const full = contentOf(reply);
      for (const delta of pieces(full, 16))
        out.push(
          ev("response.output_text.delta", { item_id: item.id, output_index, content_index: 0, delta }),
        );
      out.push(
        ev("response.output_text.done", { item_id: item.id, output_index, content_index: 0, text: full }),
      );
    } else {
      out.push(ev("response.output_item.added", { output_index, item: { ...item, arguments: "" } }));
      for (const delta of pieces(String(item.arguments), 12))
        out.push(ev("response.function_call_arguments.delta", { item_id: item.id, output_index, delta }));
    }
    out.push(ev("response.output_item.done", { output_index, item }));
  });
  out.push(ev("response.completed", { response: responseObject(ctx, reply, items) }));
  return out;
}

// ───────────────────────────── Anthropic Messages ─────────────────────────────

function messageBlocks(ctx: WireContext, reply: ScriptedReply): Json[] {
  const blocks: Json[] = [];
  const content = contentOf(reply);
  if (content) blocks.push({ type: "text", text: content });
  (reply.toolCalls ?? []).forEach((call, i) => {
    blocks.push({
      type: "tool_use",
      id: `toolu_${callId(ctx, call, i)}`,
      name: call.name,
      input: argsObject(call),
    });
  });
  return blocks;
}

const stopReason = (reply: ScriptedReply) =>
  reply.finishReason ?? ((reply.toolCalls ?? []).length > 0 ? "tool_use" : "end_turn");

export function messagesBody(ctx: WireContext, reply: ScriptedReply): unknown {
  const t = tokens(ctx, reply);
  return {
    id: `msg_${ctx.id}`,
    type: "message",
    role: "assistant",
    model: ctx.model,
    content: messageBlocks(ctx, reply),
    stop_reason: stopReason(reply),
    stop_sequence: null,
    usage: { input_tokens: t.input, output_tokens: t.output },
  };
}

export function messagesEvents(ctx: WireContext, reply: ScriptedReply): SseEvent[] {
  const t = tokens(ctx, reply);
  const ev = (type: string, data: Json): SseEvent => ({ event: type, data: { type, ...data } });
  const out = [
    ev("message_start", {
      message: {
        id: `msg_${ctx.id}`,
        type: "message",
        role: "assistant",
        model: ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: t.input, output_tokens: 1 },
      },
    }),
  ];
  messageBlocks(ctx, reply).forEach((block, index) => {
    if (block.type === "text") {
      out.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
      for (const piece of pieces(String(block.text), 16))
        out.push(ev("content_block_delta", { index, delta: { type: "text_delta", text: piece } }));
    } else {
      out.push(ev("content_block_start", { index, content_block: { ...block, input: {} } }));
      for (const piece of pieces(JSON.stringify(block.input), 12))
        out.push(
          ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece } }),
        );
    }
    out.push(ev("content_block_stop", { index }));
  });
  out.push(
    ev("message_delta", {
      delta: { stop_reason: stopReason(reply), stop_sequence: null },
      usage: { output_tokens: t.output },
    }),
  );
  out.push(ev("message_stop", {}));
  return out;
}

// ───────────────────────────── Gemini ─────────────────────────────

function geminiChunk(ctx: WireContext, parts: Json[], last: boolean, reply: ScriptedReply): Json {
  const t = tokens(ctx, reply);
  return {
    candidates: [
      {
        content: { role: "model", parts },
        index: 0,
        ...(last ? { finishReason: reply.finishReason ?? "STOP" } : {}),
      },
    ],
    ...(last
      ? {
          usageMetadata: {
            promptTokenCount: t.input,
            candidatesTokenCount: t.output,
            totalTokenCount: t.input + t.output,
          },
        }
      : {}),
    modelVersion: ctx.model,
    responseId: ctx.id,
  };
}

const functionParts = (reply: ScriptedReply): Json[] =>
  (reply.toolCalls ?? []).map((call) => ({ functionCall: { name: call.name, args: argsObject(call) } }));

export function geminiBody(ctx: WireContext, reply: ScriptedReply): unknown {
  const content = contentOf(reply);
  return geminiChunk(ctx, [...(content ? [{ text: content }] : []), ...functionParts(reply)], true, reply);
}

export function geminiEvents(ctx: WireContext, reply: ScriptedReply): SseEvent[] {
  const texts = pieces(contentOf(reply), 16);
  const calls = functionParts(reply);
  const out: SseEvent[] = texts.map((t, i) => ({
    data: geminiChunk(ctx, [{ text: t }], i === texts.length - 1 && calls.length === 0, reply),
  }));
  if (calls.length > 0 || texts.length === 0) out.push({ data: geminiChunk(ctx, calls, true, reply) });
  return out;
}
