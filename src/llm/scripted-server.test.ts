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
