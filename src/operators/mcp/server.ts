import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { VERSION } from "../../app/status.ts";
import type { GimoApi } from "./api.ts";
import { registerPrompts } from "./prompts.ts";
import { registerResources } from "./resources.ts";
import { registerTools } from "./tools.ts";

/**
 * The one MCP server definition, served two ways: over stdio by `gimo mcp` (its `api` talks to a
 * GIMO server over the network) and over Streamable HTTP at `/mcp` (its `api` calls the app
 * in-process with the caller's token). Tools, resources and prompts never touch the database:
 * they only call the REST API, so roles are enforced exactly as on REST.
 */
export const INSTRUCTIONS = `GIMO is a control plane for AI coding work: a task gets a draft plan, a person approves it, and runners execute approved plans on a task branch.
Read ops://context first. Propose work with create_draft; a person approves drafts (you cannot: there is no approve tool). Run approved plans (a_…) with create_run, then follow them with get_run_status and get_run_logs. A draft id (d_…) never runs.`;

export function createMcpServer(api: GimoApi): McpServer {
  const server = new McpServer(
    { name: "gimo", title: "GIMO", version: VERSION },
    { instructions: INSTRUCTIONS },
  );
  registerTools(server, api);
  registerResources(server, api);
  registerPrompts(server, api);
  return server;
}
