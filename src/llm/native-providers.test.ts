import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ProviderRateLimited, ProviderRejected } from "./errors.ts";
import type { ChatMessage } from "./port.ts";
import { createProvider } from "./providers.ts";

/**
 * The anthropic and gemini adapters over real HTTP, against minimal servers speaking each API's
 * wire format (Messages API; generateContent). They check what our adapter sends and reads, not
 * the vendors themselves.
 */

interface Seen {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}
type Reply = (seen: Seen) => { status?: number; headers?: Record<string, string>; body: unknown };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function fakeApi(reply: Reply) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    req.on("end", () => {
      const entry = { path: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : {} };
      seen.push(entry);
      const { status = 200, headers = {}, body } = reply(entry);
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen };
}

const key = "sk-ant-secret-key-0123456789";
const firstUser: ChatMessage = { role: "user", content: "Fix the sale." };
const conversation: ChatMessage[] = [
  firstUser,
  {
    role: "assistant",
    content: "",
    toolCalls: [
      { id: "t1", name: "read_file", args: { path: "a.ts" }, rawArgs: "{}" },
      { id: "t2", name: "read_file", args: { path: "b.ts" }, rawArgs: "{}" },
    ],
  },
  { role: "tool", toolCallId: "t1", toolName: "read_file", content: "A" },
  { role: "tool", toolCallId: "t2", toolName: "read_file", content: "B", isError: true },
];
const readFile = {
  name: "read_file",
  description: "Read a file.",
  parameters: { type: "object", properties: {} },
};

describe("anthropic adapter", () => {
  const message = (content: unknown[], stop = "end_turn") => ({
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-test",
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: { input_tokens: 42, output_tokens: 7 },
  });

  it("sends the key as x-api-key, groups tool results, and reads tool calls and usage", async () => {
    const api = await fakeApi(() => ({
      body: message([{ type: "tool_use", id: "t3", name: "read_file", input: { path: "c.ts" } }], "tool_use"),
    }));
    const llm = createProvider({ type: "anthropic", base_url: api.url, model: "claude-test", api_key: key });
    const result = await llm.step({
      system: "You are the executor.",
      messages: conversation,
      tools: [readFile],
    });
    expect(result).toMatchObject({
      toolCalls: [{ id: "t3", name: "read_file", args: { path: "c.ts" } }],
      usage: { input_tokens: 42, output_tokens: 7 },
      finishReason: "tool-calls",
    });
    const [sent] = api.seen;
    expect(sent?.path).toBe("/v1/messages");
    expect(sent?.headers["x-api-key"]).toBe(key);
    const messages = sent?.body.messages as Array<{ role: string; content: Array<{ type: string }> }>;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(messages[2]?.content.map((c) => c.type)).toEqual(["tool_result", "tool_result"]);
    expect(JSON.stringify(sent?.body.system)).toContain("You are the executor.");
  });

  it("returns validated structured output, whichever JSON mechanism the SDK chose", async () => {
    const answer = { ok: true, n: 3 };
    const api = await fakeApi(({ body }) => {
      const tools = (body.tools as Array<{ name: string }> | undefined) ?? [];
      return tools.some((t) => t.name === "json")
        ? { body: message([{ type: "tool_use", id: "j", name: "json", input: answer }], "tool_use") }
        : { body: message([{ type: "text", text: JSON.stringify(answer) }]) };
    });
    const llm = createProvider({ type: "anthropic", base_url: api.url, model: "claude-test", api_key: key });
    const schema = z.object({ ok: z.boolean(), n: z.number() });
    const result = await llm.generateObject({
      system: "s",
      messages: [firstUser],
      schema,
      schemaName: "answer",
    });
    expect(result.value).toEqual(answer);
  });

  it("waits out a 429 and redacts the key from a rejection", async () => {
    let calls = 0;
    const api = await fakeApi(() => {
      calls++;
      if (calls === 1) {
        return {
          status: 429,
          headers: { "retry-after": "0" },
          body: { type: "error", error: { type: "rate_limit_error", message: "slow down" } },
        };
      }
      return {
        status: 401,
        body: { type: "error", error: { type: "authentication_error", message: `bad ${key}` } },
      };
    });
    const llm = createProvider({
      type: "anthropic",
      base_url: api.url,
      model: "claude-test",
      api_key: key,
      options: { retry_base_ms: 5 },
    });
    const error = await llm.step({ system: "s", messages: [firstUser], tools: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as Error).message).not.toContain(key);
    expect(calls).toBe(2);
  });

  it("requires an API key, and a resolved one", () => {
    expect(() => createProvider({ type: "anthropic", model: "claude-test" })).toThrow(ProviderRejected);
    expect(() =>
      createProvider({ type: "anthropic", model: "claude-test", api_key: "${ANTHROPIC_API_KEY}" }),
    ).toThrow(/still refers to ANTHROPIC_API_KEY/);
  });
});

describe("gemini adapter", () => {
  const candidate = (parts: unknown[]) => ({
    candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 5, totalTokenCount: 35 },
  });

  it("calls generateContent with the key header and reads function calls and usage", async () => {
    const api = await fakeApi(() => ({
      body: candidate([{ functionCall: { name: "read_file", args: { path: "x" } } }]),
    }));
    const llm = createProvider({
      type: "gemini",
      base_url: api.url,
      model: "gemini-test",
      api_key: "AIza-secret-123",
    });
    const result = await llm.step({ system: "sys", messages: conversation, tools: [readFile] });
    expect(result.toolCalls).toMatchObject([{ name: "read_file", args: { path: "x" } }]);
    expect(result.usage).toEqual({ input_tokens: 30, output_tokens: 5 });
    expect(api.seen[0]?.path).toBe("/v1/models/gemini-test:generateContent");
    expect(api.seen[0]?.headers["x-goog-api-key"]).toBe("AIza-secret-123");
  });

  it("returns validated structured output and reports a long rate limit as ProviderRateLimited", async () => {
    let calls = 0;
    const api = await fakeApi(() => {
      calls++;
      if (calls === 1) return { body: candidate([{ text: '{"ok":true}' }]) };
      return {
        status: 429,
        headers: { "retry-after": "3600" },
        body: { error: { code: 429, message: "quota" } },
      };
    });
    const llm = createProvider({
      type: "gemini",
      base_url: api.url,
      model: "gemini-test",
      api_key: "AIza-secret-123",
    });
    const schema = z.object({ ok: z.boolean() });
    const ask = { system: "s", messages: [firstUser], schema, schemaName: "answer" };
    expect((await llm.generateObject(ask)).value).toEqual({ ok: true });
    const error = await llm.generateObject(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRateLimited);
    expect((error as ProviderRateLimited).retryAfterSeconds).toBe(3600);
  });
});
