import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verdicts } from "../src/demo/model-script.ts";
import { embeddedExecutorDeps } from "../src/embedded/executor-deps.ts";
import type { ScriptedReply } from "../src/llm/scripted-replies.ts";
import { type ReceivedRequest, type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { createExecutor } from "../src/runner/executor.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { type EverythingHttp, everythingServer, startEverythingHttp } from "./support/integration-servers.ts";
import { queueApprovedRun, runEnded } from "./support/runs.ts";

/**
 * MCP integrations against a real MCP server from the npm registry,
 * @modelcontextprotocol/server-everything, over stdio (started by GIMO inside its bubblewrap
 * sandbox) and over Streamable HTTP (a separate process), through the official SDK client:
 * discovery, secrets, timeouts, and the scripted executor agent and chat planner calling an
 * allow-listed operation in a real run and a real chat.
 */
const MCP_SECRET = "mcp-secret-value-5be1d0";
const CALC = "export function add(a, b) {\n  return a - b;\n}\n";
const TEST = `import { add } from "./calc.js";
const ok = add(2, 3) === 5;
console.log(ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
process.exit(ok ? 0 : 1);
`;
const PLAN = {
  title: "Fix add()",
  summary: "Use the sum service to check, then fix add().",
  steps: [
    { id: "s1", kind: "agent", title: "Fix add()", instructions: "Make add(a, b) return a + b." },
    { id: "s2", kind: "test", title: "Run the tests" },
  ],
  acceptance: ["node calc.test.js passes"],
  risk: "low",
};

type Message = NonNullable<ReceivedRequest["body"]["messages"]>[number];
const call = (name: string, args: unknown): ScriptedReply => ({ toolCalls: [{ name, args }] });

/** The executor: the sum integration, a tool it was not given, then the fix, the tests, finish. */
function agent(request: ReceivedRequest): ScriptedReply {
  const messages = request.body.messages ?? [];
  const results = messages.filter((m: Message) => m.role === "tool").length;
  const script = [
    call("everything__get-sum", { a: 2, b: 3 }),
    call("everything__echo", { message: "not allow-listed" }),
    call("edit_file", { path: "calc.js", search: "return a - b;", replace: "return a + b;" }),
    call("run_tests", {}),
    call("finish", { summary: "add() fixed; the sum service agrees: 5" }),
  ];
  return script[results] ?? { text: "done" };
}

describe("MCP integrations (server-everything)", () => {
  let g: TestGimo;
  let http: EverythingHttp;
  let model: ScriptedModel;
  let respond: (req: ReceivedRequest) => ScriptedReply = agent;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    http = await startEverythingHttp();
    model = await startScriptedModel({ respond: (req) => respond(req) });
    g = await startGimo(
      "sqlite",
      { sandbox: "on", leaseSeconds: 10 },
      {
        env: { MCP_SECRET },
        runHandler: (services) => createExecutor(embeddedExecutorDeps(services, () => {})),
      },
    );
    writeFileSync(join(g.repo.path, "calc.js"), CALC);
    writeFileSync(join(g.repo.path, "calc.test.js"), TEST);
    writeFileSync(join(g.repo.path, "package.json"), '{"type":"module"}\n');
    await g.repo.git("add", ".");
    await g.repo.git("commit", "-q", "-m", "calc with a bug");
    await g.repo.git("push", "-q", "origin", "main");
    const provider = { type: "openai_compat", base_url: model.url, model: "scripted" };
    await g.request("PUT", "/ops/provider", { body: { planner: provider, executor: provider } });
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { test_command: "node calc.test.js" } });
  });
  afterAll(async () => {
    await g?.close();
    await http?.close();
    await model?.close();
  });

  it("discovers the tools over Streamable HTTP and over stdio inside the sandbox", async () => {
    const overHttp = await g.request("POST", "/ops/integrations", {
      body: { name: "everything", kind: "mcp", base_url: http.url, allow_private: true },
    });
    expect(overHttp.status, overHttp.text).toBe(201);
    const overStdio = await g.request("POST", "/ops/integrations", {
      body: {
        name: "everything-stdio",
        kind: "mcp",
        stdio: { command: "node", args: [everythingServer, "stdio"], env: { MCP_SECRET: "${MCP_SECRET}" } },
      },
    });
    expect(overStdio.status, overStdio.text).toBe(201);
    for (const created of [overHttp.body, overStdio.body]) {
      expect(created.status).toBe("online");
      const names = created.operations.map((o: { name: string }) => o.name);
      expect(names).toEqual(
        expect.arrayContaining(["echo", "get-sum", "get-env", "trigger-long-running-operation"]),
      );
      const sum = created.operations.find((o: { name: string }) => o.name === "get-sum");
      expect(sum.input_schema).toMatchObject({ type: "object", required: ["a", "b"] });
      ids[created.name] = created.id;
    }
    expect(overStdio.body.stdio.env).toEqual({ MCP_SECRET: "${MCP_SECRET}" });
  });

  it("calls a tool over stdio with only the environment it was given, secrets redacted", async () => {
    const sum = await g.request("POST", `/ops/integrations/${ids["everything-stdio"]}/test`, {
      body: { operation: "get-sum", arguments: { a: 19, b: 23 } },
    });
    expect(sum.body, sum.text).toMatchObject({ ok: true, status: "ok" });
    expect(sum.body.content).toContain("42");
    const env = await g.request("POST", `/ops/integrations/${ids["everything-stdio"]}/test`, {
      body: { operation: "get-env" },
    });
    expect(env.body.ok, env.text).toBe(true);
    const seen = JSON.parse(env.body.content) as Record<string, string>;
    expect(seen.MCP_SECRET).toBe("[redacted]");
    expect(env.text).not.toContain(MCP_SECRET);
    // GIMO's own environment never reaches the server: only the sandbox's base and what was named.
    expect(Object.keys(seen).filter((k) => /^(GIMO|ORCH|DATABASE|VITEST|npm_)/.test(k))).toEqual([]);
    expect(seen.HOME).toBe("/tmp");
  });

  it("caps what a server sends over both transports", async () => {
    for (const name of ["everything", "everything-stdio"]) {
      const id = ids[name];
      await g.request("PATCH", `/ops/integrations/${id}`, { body: { max_response_bytes: 2_048 } });
      const image = await g.request("POST", `/ops/integrations/${id}/test`, {
        body: { operation: "get-tiny-image" },
      });
      expect(image.body, `${name}: ${image.text}`).toMatchObject({ ok: false, status: "too_large" });
      await g.request("PATCH", `/ops/integrations/${id}`, { body: { max_response_bytes: 1_048_576 } });
      const after = await g.request("POST", `/ops/integrations/${id}/test`, {
        body: { operation: "get-tiny-image" },
      });
      expect(after.body.status, name).toBe("ok");
    }
  });

  it("times out a slow tool over both transports, and the next call works", async () => {
    for (const name of ["everything", "everything-stdio"]) {
      const id = ids[name];
      await g.request("PATCH", `/ops/integrations/${id}`, { body: { timeout_ms: 1_500 } });
      const started = Date.now();
      const slow = await g.request("POST", `/ops/integrations/${id}/test`, {
        body: { operation: "trigger-long-running-operation", arguments: { duration: 8, steps: 2 } },
      });
      expect(slow.body, `${name}: ${slow.text}`).toMatchObject({ ok: false, status: "timeout" });
      expect(Date.now() - started).toBeLessThan(6_000);
      // The timed-out session was dropped (a stdio server is stopped); the next call starts afresh.
      await g.request("PATCH", `/ops/integrations/${id}`, { body: { timeout_ms: 30_000 } });
      const after = await g.request("POST", `/ops/integrations/${id}/test`, {
        body: { operation: "echo", arguments: { message: "still here" } },
      });
      expect(after.body.content, name).toContain("still here");
    }
  });

  it("lets the executor agent call an allow-listed tool in a real run, and only that one", async () => {
    const allow = await g.request("PUT", `/ops/integrations/${ids.everything}/allowlist`, {
      body: { operations: [{ operation: "get-sum", projects: [g.projectId] }] },
    });
    expect(allow.status, allow.text).toBe(200);
    // Without tools, the run asks for its acceptance review: the one criterion is met.
    respond = (req) => (req.body.tools?.length ? agent(req) : verdicts([true]));
    const run = await runEnded(g, await queueApprovedRun(g, PLAN));
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");

    const executorCalls = model.requests.filter((r) => r.body.tools?.length);
    const toolNames = (executorCalls[0]?.body.tools ?? []).map(
      (t) => (t as { function: { name: string } }).function.name,
    );
    expect(toolNames).toContain("everything__get-sum");
    expect(toolNames).not.toContain("everything__echo");
    const toolMessages = (executorCalls.at(-1)?.body.messages ?? []).filter((m) => m.role === "tool");
    expect(String(toolMessages[0]?.content)).toContain("5");
    expect(String(toolMessages[1]?.content)).toContain("there is no tool everything__echo");

    const logs = await g.request("GET", `/ops/runs/${run.id}/logs?limit=500`);
    const lines = logs.body.items.map((l: { msg: string }) => l.msg);
    expect(lines).toContain("integration tools: everything__get-sum");
    expect(lines.some((l: string) => /^integration everything\.get-sum: ok in \d+ ms$/.test(l))).toBe(true);

    const audit = await g.request("GET", "/ops/audit?limit=200");
    const byRun = audit.body.items.filter(
      (e: { type: string; data: { run_id?: string } }) =>
        e.type === "integration.called" && e.data.run_id === run.id,
    );
    expect(byRun.map((e: { data: unknown }) => e.data)).toEqual([
      expect.objectContaining({ name: "everything", operation: "get-sum", caller: "run", status: "ok" }),
    ]);
  });

  it("gives the chat planner the project's allow-listed tools", async () => {
    let calls = 0;
    respond = (req) => {
      const last = req.body.messages?.at(-1);
      if (last?.role === "tool") return { text: `The service says: ${String(last.content)}` };
      calls++;
      return call("everything__get-sum", { a: 40, b: 2 });
    };
    const chat = await g.request("POST", "/ops/chats", { role: "operator", body: { title: "sums" } });
    const sent = await g.request("POST", `/ops/chats/${chat.body.id}/messages`, {
      role: "operator",
      body: { text: "what is 40 + 2 according to the sum service?" },
    });
    expect(sent.status, sent.text).toBe(201);
    expect(calls).toBe(1);
    const reply = sent.body.messages.at(-1);
    expect(reply.text).toContain("42");
    const audit = await g.request("GET", "/ops/audit?limit=200");
    const fromChat = audit.body.items.filter(
      (e: { type: string; data: { caller?: string } }) =>
        e.type === "integration.called" && e.data.caller === "chat",
    );
    expect(fromChat).toHaveLength(1);
  });
});
