import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { conformance, GIMO_BIN, inspector, tokenGateway } from "./support/mcp.ts";

/**
 * GIMO's MCP server through clients its authors did not write: the official MCP Inspector in CLI
 * mode (over Streamable HTTP and over stdio, `gimo mcp` as its subprocess) and the official
 * conformance suite's server scenarios that apply to a server with tools but no sessions.
 */
let g: TestGimo;
let tmp: string;
let approvedId: string;
let draftId: string;

beforeAll(async () => {
  g = await startGimo("sqlite");
  tmp = mkdtempSync(join(tmpdir(), "gimo-mcp-clients-"));
  const draft = await g.request("POST", "/ops/drafts", {
    role: "operator",
    body: { prompt: "Inspector plan", plan: samplePlan("Inspector plan") },
  });
  draftId = draft.body.id;
  const approval = await g.request("POST", `/ops/drafts/${draftId}/approve`, {
    role: "operator",
    body: { auto_run: false },
  });
  approvedId = approval.body.approved.id;
});

afterAll(async () => {
  await g?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function target(transport: "http" | "stdio", token: string): string[] {
  return transport === "http"
    ? [`${g.url}/mcp`, "--transport", "http", "--header", `Authorization: Bearer ${token}`]
    : [process.execPath, GIMO_BIN, "mcp", "--url", g.url, "--token", token];
}

describe.each(["http", "stdio"] as const)("MCP Inspector CLI over %s", (transport) => {
  it("tools/list: the five tools", async () => {
    const out = await inspector([...target(transport, g.tokens.operator), "--method", "tools/list"], tmp);
    expect(out.code, out.output).toBe(0);
    expect(out.json.tools.map((t: { name: string }) => t.name).sort()).toEqual([
      "create_draft",
      "create_run",
      "get_run_logs",
      "get_run_status",
      "list_tasks",
    ]);
  });

  it("tools/call create_run: a draft id is an error that says so", async () => {
    const out = await inspector(
      [
        ...target(transport, g.tokens.operator),
        "--method",
        "tools/call",
        "--tool-name",
        "create_run",
        "--tool-arg",
        `approved_id=${draftId}`,
      ],
      tmp,
    );
    expect(out.code, "the Inspector exits non-zero on a tool error").not.toBe(0);
    expect(out.json?.isError, out.output).toBe(true);
    expect(JSON.stringify(out.json.content)).toContain(`${draftId} is a draft id`);
  });

  it("resources/read ops://approved/{id} and prompts/get orch_dispatch", async () => {
    const resource = await inspector(
      [
        ...target(transport, g.tokens.actions),
        "--method",
        "resources/read",
        "--uri",
        `ops://approved/${approvedId}`,
      ],
      tmp,
    );
    expect(resource.code, resource.output).toBe(0);
    expect(resource.json.contents[0].text).toContain("Inspector plan");
    const prompt = await inspector(
      [
        ...target(transport, g.tokens.actions),
        "--method",
        "prompts/get",
        "--prompt-name",
        "orch_dispatch",
        "--prompt-args",
        `approved_id=${approvedId}`,
      ],
      tmp,
    );
    expect(prompt.code, prompt.output).toBe(0);
    expect(JSON.stringify(prompt.json.messages)).toContain(approvedId);
  });
});

describe("MCP conformance suite, server scenarios", () => {
  let gateway: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    gateway = await tokenGateway(g.url, g.tokens.operator);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  for (const scenario of ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"]) {
    it(scenario, async () => {
      const out = await conformance(`${gateway.url}/mcp`, scenario, join(tmp, scenario));
      expect(out.code, out.output).toBe(0);
      expect(out.output).not.toMatch(/FAILURE|✗/);
    });
  }
});
