import { afterEach, describe, expect, it } from "vitest";
import { type ScriptedModel, startScriptedModel } from "./scripted-server.ts";

/** The scripted model server itself, spoken to with plain fetch. */

const servers: ScriptedModel[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(...args: Parameters<typeof startScriptedModel>) {
  const server = await startScriptedModel(...args);
  servers.push(server);
  return server;
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/chat/completions`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

describe("scripted model server", () => {
  it("listens on 127.0.0.1, lists its models and plays the queue in order, then the responder", async () => {
    const model = await start({
      script: [{ text: "first" }],
      respond: (request) => ({ text: `echo ${String(request.body.messages?.at(-1)?.content)}` }),
      models: ["m1"],
    });
    expect(model.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(await (await fetch(`${model.url}/models`)).json()).toMatchObject({ data: [{ id: "m1" }] });
    model.push({ text: "second" });
    const texts: string[] = [];
    for (const content of ["a", "b", "c"]) {
      const body = (await (
        await post(model.url, { model: "m1", messages: [{ role: "user", content }] })
      ).json()) as {
        choices: Array<{ message: { content: string } }>;
      };
      texts.push(body.choices[0]?.message.content ?? "");
    }
    expect(texts).toEqual(["first", "second", "echo c"]);
    expect(model.requests.map((r) => r.body.messages?.[0]?.content)).toEqual(["a", "b", "c"]);
    expect(model.pending()).toBe(0);
  });

  it("answers 500 with a clear message when the script is exhausted", async () => {
    const model = await start();
    const response = await post(model.url, { messages: [] });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      error: { message: expect.stringMatching(/script exhausted/) },
    });
  });

  it("plays errors with Retry-After", async () => {
    const model = await start({ script: [{ status: 429, retryAfter: 3 }] });
    const response = await post(model.url, { messages: [] });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("3");
  });

  it("streams SSE chunks ending in [DONE], with usage only when asked for", async () => {
    const model = await start({ script: [{ text: "a fairly long answer to split" }, { text: "x" }] });
    const read = async (body: unknown) =>
      (await (await post(model.url, body)).text())
        .split("\n\n")
        .filter(Boolean)
        .map((event) => event.replace(/^data: /, ""));
    const withUsage = await read({ messages: [], stream: true, stream_options: { include_usage: true } });
    expect(withUsage.at(-1)).toBe("[DONE]");
    const chunks = withUsage.slice(0, -1).map((c) => JSON.parse(c));
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe("a fairly long answer to split");
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(1);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) } });
    const without = await read({ messages: [], stream: true });
    expect(without.some((c) => c.includes('"usage"'))).toBe(false);
  });
});

/**
 * The other dialects, spoken to by clients somebody else wrote: GIMO's anthropic and gemini
 * adapters (the Vercel AI SDK's Anthropic and Google providers), whole and streamed. The Responses
 * dialect is spoken to by the real Codex CLI (test/agent-cli-codex.test.ts).
 */
describe("scripted model server: Anthropic Messages and Gemini dialects", () => {
  const tools = [
    {
      name: "edit_file",
      description: "Edit a file",
      parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    },
  ];
  const cases = [
    { type: "anthropic" as const, api: "messages", path: "/v1/messages" },
    { type: "gemini" as const, api: "gemini", path: "/v1beta/models/scripted-model:" },
  ];
  for (const { type, api, path } of cases) {
    for (const stream of [false, true]) {
      it(`${type}${stream ? " streamed" : ""}: a tool call, then the tool's output seen, text and usage`, async () => {
        const model = await start({
          respond: (req) =>
            req.turn.toolOutputs.length === 0
              ? {
                  toolCalls: [{ name: "edit_file", args: { path: "calc.js" } }],
                  usage: { prompt_tokens: 40, completion_tokens: 9 },
                }
              : {
                  text: `saw ${req.turn.toolOutputs.join(",")} — a longer answer in pieces`,
                  usage: { prompt_tokens: 50, completion_tokens: 7 },
                },
        });
        const base = type === "anthropic" ? model.url : model.url.replace(/\/v1$/, "/v1beta");
        const { createProvider } = await import("./providers.ts");
        const provider = createProvider(
          {
            type,
            base_url: base,
            model: "scripted-model",
            api_key: "k",
            options: { stream, max_retries: 0 },
          },
          {},
        );
        const first = await provider.step({
          system: "s",
          messages: [{ role: "user", content: "fix" }],
          tools,
        });
        expect(first.toolCalls.map((c) => [c.name, c.args])).toEqual([["edit_file", { path: "calc.js" }]]);
        expect(first.usage).toEqual({ input_tokens: 40, output_tokens: 9 });
        const call = first.toolCalls[0];
        if (!call) throw new Error("no tool call");
        const second = await provider.step({
          system: "s",
          messages: [
            { role: "user", content: "fix" },
            { role: "assistant", content: "", toolCalls: [call] },
            { role: "tool", toolCallId: call.id, toolName: call.name, content: "edited" },
          ],
          tools,
        });
        // Gemini's functionResponse is an object ({name, content}); the others pass the text.
        expect(second.text).toMatch(/^saw .*edited.* — a longer answer in pieces$/);
        expect(second.usage).toEqual({ input_tokens: 50, output_tokens: 7 });
        expect(model.requests.map((r) => [r.api, r.turn.tools])).toEqual([
          [api, ["edit_file"]],
          [api, ["edit_file"]],
        ]);
        expect(model.requests[0]?.path.startsWith(path)).toBe(true);
      });
    }
  }
});
