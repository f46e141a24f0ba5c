import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { gimoMcpProcess, httpClient, stdioClient } from "./support/mcp.ts";

/**
 * The MCP operator through the official SDK client, over both transports: the tools, resources
 * and prompts of SPEC §7.3; the approval gate (a draft id never runs, there is no approve tool);
 * roles exactly as on REST (an actions token cannot create a run); 401 for a missing or unknown
 * token; a foreign Host or Origin refused (DNS rebinding).
 */
let g: TestGimo;
let tmp: string;

beforeAll(async () => {
  g = await startGimo("sqlite");
  writeFileSync(join(g.repo.path, "AGENTS.md"), "# Agents\n\nRun `npm test` before every commit.\n");
  await g.repo.git("add", "AGENTS.md");
  await g.repo.git("commit", "-q", "-m", "agent notes");
  tmp = mkdtempSync(join(tmpdir(), "gimo-mcp-test-"));
});

afterAll(async () => {
  await g?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function draftAndApproval(title: string): Promise<{ draftId: string; approvedId: string }> {
  const draft = await g.request("POST", "/ops/drafts", {
    role: "operator",
    body: { prompt: title, plan: samplePlan(title) },
  });
  expect(draft.status).toBe(201);
  const approval = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
    role: "operator",
    body: { auto_run: false },
  });
  expect(approval.status).toBe(201);
  return { draftId: draft.body.id, approvedId: approval.body.approved.id };
}

function resourceText(result: { contents: unknown[] }): string {
  return String((result.contents[0] as { text?: string } | undefined)?.text);
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
async function json(res: Response): Promise<any> {
  return res.json();
}

function text(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? "").join("\n");
}

for (const transport of ["http", "stdio"] as const) {
  describe(`MCP over ${transport}`, () => {
    const connect = (token: string): Promise<Client> =>
      transport === "http" ? httpClient(g.url, token) : stdioClient(g.url, token);
    let operator: Client;

    beforeAll(async () => {
      operator = await connect(g.tokens.operator);
    });
    afterAll(async () => {
      await operator?.close();
    });

    it("lists the five tools of the contract, and no approve tool", async () => {
      const { tools } = await operator.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        "create_draft",
        "create_run",
        "get_run_logs",
        "get_run_status",
        "list_tasks",
      ]);
      expect(tools.some((t) => /approve/i.test(t.name))).toBe(false);
      const createRun = tools.find((t) => t.name === "create_run");
      expect(createRun?.inputSchema.required).toEqual(["approved_id"]);
      const createDraft = tools.find((t) => t.name === "create_draft");
      expect(Object.keys(createDraft?.inputSchema.properties ?? {}).sort()).toEqual([
        "plan",
        "project",
        "prompt",
        "task_id",
      ]);
    });

    it("creates a draft that does not run, and refuses its id in create_run with a message that says why", async () => {
      const created = await operator.callTool({
        name: "create_draft",
        arguments: { prompt: "Reject negative stock", plan: samplePlan("Reject negative stock") },
      });
      expect(created.isError).toBeFalsy();
      const draft = created.structuredContent as { id: string; status: string; task_id: string };
      expect(draft.id).toMatch(/^d_/);
      expect(draft.status).toBe("draft");
      expect(text(created)).toContain("must approve");

      const refused = await operator.callTool({ name: "create_run", arguments: { approved_id: draft.id } });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toContain("approval_required");
      expect(text(refused)).toContain(`${draft.id} is a draft id`);
      expect(text(refused)).toContain("there is no approve tool");
      const runs = await g.request("GET", `/ops/runs?task=${draft.task_id}`);
      expect(runs.body.items).toEqual([]);
    });

    it("runs an approved plan and reads its status and logs", async () => {
      const { approvedId } = await draftAndApproval(`Approved over ${transport}`);
      const created = await operator.callTool({ name: "create_run", arguments: { approved_id: approvedId } });
      expect(created.isError).toBeFalsy();
      const run = created.structuredContent as { id: string; status: string; approved_id: string };
      expect(run).toMatchObject({ approved_id: approvedId, status: "queued" });
      expect((await g.request("GET", `/ops/runs/${run.id}`)).body.created_by).toBe("env:operator");

      const status = await operator.callTool({ name: "get_run_status", arguments: { run_id: run.id } });
      expect(status.structuredContent).toMatchObject({ id: run.id, status: "queued" });
      expect(text(status)).toContain(`Run ${run.id}`);

      const logs = await operator.callTool({ name: "get_run_logs", arguments: { run_id: run.id } });
      expect(logs.isError).toBeFalsy();
      expect(logs.structuredContent).toMatchObject({ items: [] });

      const tasks = await operator.callTool({ name: "list_tasks", arguments: { status: "EXECUTING" } });
      const items = (tasks.structuredContent as { items: { status: string }[] }).items;
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((t) => t.status === "EXECUTING")).toBe(true);
    });

    it("answers GIMO's own error for an unknown run and for input the contract refuses", async () => {
      const missing = await operator.callTool({
        name: "get_run_status",
        arguments: { run_id: "r_01JD0000000000000000000000" },
      });
      expect(missing.isError).toBe(true);
      expect(text(missing)).toContain("not_found (404)");
      const bad = await operator.callTool({ name: "create_draft", arguments: { prompt: "" } });
      expect(bad.isError).toBe(true);
    });

    it("enforces roles as REST does: an actions token reads, but cannot create a draft or a run", async () => {
      const { approvedId } = await draftAndApproval(`Not for actions over ${transport}`);
      const actions = await connect(g.tokens.actions);
      try {
        const listed = await actions.callTool({ name: "list_tasks", arguments: {} });
        expect(listed.isError).toBeFalsy();
        const run = await actions.callTool({ name: "create_run", arguments: { approved_id: approvedId } });
        expect(run.isError).toBe(true);
        expect(text(run)).toContain("forbidden (403)");
        const draft = await actions.callTool({ name: "create_draft", arguments: { prompt: "x" } });
        expect(draft.isError).toBe(true);
        expect(text(draft)).toContain("forbidden (403)");
      } finally {
        await actions.close();
      }
      const runs = await g.request("GET", "/ops/runs");
      expect(runs.body.items.some((r: { approved_id: string }) => r.approved_id === approvedId)).toBe(false);
    });

    it("serves the resources: plan, approved plans, a run, and the context an agent needs", async () => {
      const { draftId, approvedId } = await draftAndApproval(`Resource plan over ${transport}`);
      const { resources } = await operator.listResources();
      expect(resources.map((r) => r.uri)).toEqual(
        expect.arrayContaining([
          "ops://plan",
          "ops://approved",
          "ops://context",
          `ops://approved/${approvedId}`,
        ]),
      );
      const { resourceTemplates } = await operator.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
        "ops://approved/{id}",
        "ops://runs/{id}",
      ]);

      const plan = await operator.readResource({ uri: "ops://plan" });
      expect(JSON.parse(resourceText(plan))).toMatchObject({ project_id: g.projectId });

      const approved = await operator.readResource({ uri: `ops://approved/${approvedId}` });
      expect(resourceText(approved)).toContain(`Resource plan over ${transport}`);
      expect(resourceText(approved)).toContain("sha256:");
      await expect(operator.readResource({ uri: `ops://approved/${draftId}` })).rejects.toThrow(
        /is a draft id/,
      );

      const run = await operator.callTool({ name: "create_run", arguments: { approved_id: approvedId } });
      const runId = (run.structuredContent as { id: string }).id;
      const runRes = await operator.readResource({ uri: `ops://runs/${runId}` });
      expect(JSON.parse(resourceText(runRes))).toMatchObject({ id: runId, status: "queued" });

      await expect(operator.readResource({ uri: "ops://runs/r_bad" })).rejects.toThrow(/is not a run id/);
      await expect(operator.readResource({ uri: "ops://approved/x" })).rejects.toThrow(
        /is not a approved id/,
      );

      const context = resourceText(await operator.readResource({ uri: "ops://context" }));
      expect(context).toContain("# Plan document");
      expect(context).toContain("Run `npm test` before every commit.");
      expect(context).toContain("## AGENTS.md");
      expect(context).toContain(runId);
      expect(context).toContain("[EXECUTING]");
    });

    it("serves the dispatch prompts for approved ids only", async () => {
      const { draftId, approvedId } = await draftAndApproval(`Prompt plan over ${transport}`);
      const { prompts } = await operator.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual(["editp_dispatch", "orch_dispatch", "sub_dispatch"]);

      const orch = await operator.getPrompt({
        name: "orch_dispatch",
        arguments: { approved_id: approvedId },
      });
      const orchText = JSON.stringify(orch.messages);
      expect(orchText).toContain(`Prompt plan over ${transport}`);
      expect(orchText).toContain("create_run");
      const sub = await operator.getPrompt({
        name: "sub_dispatch",
        arguments: { approved_id: approvedId, agent: "reviewer" },
      });
      expect(JSON.stringify(sub.messages)).toContain('\\"reviewer\\"');
      const edit = await operator.getPrompt({
        name: "editp_dispatch",
        arguments: { approved_id: approvedId, file: "src/stock.ts" },
      });
      expect(JSON.stringify(edit.messages)).toContain("Change only src/stock.ts");

      await expect(
        operator.getPrompt({ name: "orch_dispatch", arguments: { approved_id: draftId } }),
      ).rejects.toThrow(/is a draft id/);
    });
  });
}

describe("MCP over HTTP: the edge", () => {
  const initialize = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  };
  const post = (headers: Record<string, string>, body: unknown = initialize) =>
    fetch(`${g.url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...headers,
      },
      body: JSON.stringify(body),
    });

  it("is 401 without a token and with an unknown one, 403 for a runner token", async () => {
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: "Bearer not-a-token" })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${g.tokens.runner}` })).status).toBe(403);
    await expect(httpClient(g.url, "not-a-token")).rejects.toThrow();
  });

  it("refuses a foreign Origin or Host (DNS rebinding), accepts loopback ones", async () => {
    const auth = { authorization: `Bearer ${g.tokens.operator}` };
    const port = new URL(g.url).port;
    const foreignOrigin = await post({ ...auth, origin: "http://evil.example.com" });
    expect(foreignOrigin.status).toBe(403);
    expect((await json(foreignOrigin)).error.message).toContain("DNS rebinding");
    expect((await post({ ...auth, origin: "null" })).status).toBe(403);
    expect(await statusWithHost(`evil.example.com:${port}`, auth)).toBe(403);
    expect(await statusWithHost(`127.0.0.1:${port}`, auth)).toBe(200);
    const local = await post({ ...auth, origin: `http://localhost:${port}` });
    expect(local.status).toBe(200);
    expect((await json(local)).result.serverInfo.name).toBe("gimo");
  });

  it("answers a parse error for a body that is not JSON, and 405 to GET", async () => {
    const auth = { authorization: `Bearer ${g.tokens.operator}` };
    const bad = await fetch(`${g.url}/mcp`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe(-32700);
    const get = await fetch(`${g.url}/mcp`, { headers: { ...auth, accept: "text/event-stream" } });
    expect(get.status).toBe(405);
  });

  it("answers with the caller's correlation id", async () => {
    const res = await post(
      { authorization: `Bearer ${g.tokens.operator}`, "x-correlation-id": "mcp-corr-1" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_tasks", arguments: {} } },
    );
    expect(res.headers.get("x-correlation-id")).toBe("mcp-corr-1");
  });
});

/** fetch may not set Host: a raw request does, as a DNS-rebinding browser's would carry it. */
function statusWithHost(host: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(`${g.url}/mcp`);
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: {
          ...headers,
          host,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("gimo mcp (stdio): start-up", () => {
  it("fails at once, on stderr, with a refused token", async () => {
    const out = await gimoMcpProcess(["--url", g.url, "--token", "wrong"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("the token was refused (401)");
    expect(out.stdout).toBe("");
  });

  it("prints its usage for --help, and exits 0", async () => {
    const out = await gimoMcpProcess(["--help"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Usage: gimo mcp");
    expect(out.stdout).toContain("there is no approve tool");
  });

  it("fails with a hint when there is no token at all", async () => {
    const out = await gimoMcpProcess(["--url", g.url], { GIMO_DATA_DIR: tmp });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("no token");
  });
});
