import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ProviderConfig } from "./config.ts";
import { jsonSchemaOf } from "./json.ts";
import type { ChatMessage, ToolSpec } from "./port.ts";
import { createProvider } from "./providers.ts";
import { type ScriptedModel, type ScriptedReply, startScriptedModel } from "./scripted-server.ts";

/** Tool calling through the openai_compat adapter, streamed and not, including local-server quirks. */

const tools: ToolSpec[] = [
  {
    name: "read_file",
    description: "Read a file of the workspace.",
    parameters: jsonSchemaOf(z.object({ path: z.string() })),
  },
  {
    name: "edit_file",
    description: "Replace text in a file.",
    parameters: jsonSchemaOf(z.object({ path: z.string(), old: z.string(), new: z.string() })),
  },
];

const readCall = { id: "call_read", name: "read_file", args: { path: "src/sales.ts" } };
const calls = [
  readCall,
  { id: "call_edit", name: "edit_file", args: { path: "src/sales.ts", old: "qty", new: "Math.max(0, qty)" } },
];

const servers: ScriptedModel[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function run(reply: ScriptedReply, options: ProviderConfig["options"] = {}) {
  const model = await startScriptedModel({ script: [reply] });
  servers.push(model);
  const llm = createProvider({
    type: "openai_compat",
    base_url: model.url,
    model: "scripted-model",
    options: { retry_base_ms: 10, ...options },
  });
  const result = await llm.step({
    system: "You are the executor.",
    messages: [{ role: "user", content: "Fix the sales validation." }],
    tools,
  });
  return { model, result };
}

describe("tool calls", () => {
  it("parses streamed tool calls with arguments split across chunks, and streamed usage", async () => {
    const { model, result } = await run(
      { text: "Reading first.", toolCalls: calls, usage: { prompt_tokens: 300, completion_tokens: 40 } },
      { stream: true },
    );
    expect(result.text).toBe("Reading first.");
    expect(result.toolCalls.map(({ id, name, args }) => ({ id, name, args }))).toEqual(calls);
    expect(result.finishReason).toBe("tool-calls");
    expect(result.usage).toEqual({ input_tokens: 300, output_tokens: 40 });
    expect(model.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("parses non-streamed tool calls the same way", async () => {
    const { result } = await run({ toolCalls: calls });
    expect(result.toolCalls.map(({ id, name, args }) => ({ id, name, args }))).toEqual(calls);
    expect(result.usage.input_tokens).toBeGreaterThan(0);
  });

  it("tolerates LM Studio's blank tool name in later chunks", async () => {
    const { result } = await run(
      { toolCalls: calls, quirks: { blankToolNameInLaterChunks: true } },
      { stream: true },
    );
    expect(result.toolCalls.map((c) => [c.name, c.args])).toEqual(calls.map((c) => [c.name, c.args]));
  });

  it("tolerates a first tool-call chunk without a name, and calls without ids", async () => {
    const { result } = await run(
      { toolCalls: calls, quirks: { toolNameLate: true, noToolCallIds: true } },
      { stream: true },
    );
    expect(result.toolCalls.map((c) => [c.name, c.args])).toEqual(calls.map((c) => [c.name, c.args]));
    expect(new Set(result.toolCalls.map((c) => c.id)).size).toBe(2);
  });

  it("keeps malformed arguments as raw text instead of failing the turn", async () => {
    const { result } = await run({
      toolCalls: [{ id: "c1", name: "read_file", args: '{"path": "src/a.ts"' }],
    });
    expect(result.toolCalls[0]).toMatchObject({
      name: "read_file",
      args: undefined,
      rawArgs: '{"path": "src/a.ts"',
    });
  });

  it("does not send tool_choice to openai_compat unless configured (Ollama rejects it)", async () => {
    const { model } = await run({ text: "done" });
    const body = model.requests[0]?.body;
    expect(body?.tools).toHaveLength(2);
    expect(body).not.toHaveProperty("tool_choice");
    const { model: configured } = await run({ text: "done" }, { tool_choice: "required" });
    expect(configured.requests[0]?.body.tool_choice).toBe("required");
  });

  it("sends the conversation back in OpenAI's shape: assistant tool calls, then tool results", async () => {
    const model = await startScriptedModel({ script: [{ text: "All done." }] });
    servers.push(model);
    const llm = createProvider({ type: "openai_compat", base_url: model.url, model: "scripted-model" });
    const messages: ChatMessage[] = [
      { role: "user", content: "Fix it." },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ ...readCall, rawArgs: JSON.stringify(readCall.args) }],
      },
      { role: "tool", toolCallId: "call_read", toolName: "read_file", content: "export const qty = -1;" },
    ];
    const result = await llm.step({ system: "sys", messages, tools });
    expect(result).toMatchObject({ text: "All done.", toolCalls: [], finishReason: "stop" });
    const sent = model.requests[0]?.body.messages;
    expect(sent?.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(sent?.[2]?.tool_calls).toEqual([
      {
        id: "call_read",
        type: "function",
        function: { name: "read_file", arguments: '{"path":"src/sales.ts"}' },
      },
    ]);
    expect(sent?.[3]).toMatchObject({ tool_call_id: "call_read", content: "export const qty = -1;" });
  });
});
