import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { GimoClientError } from "../../client/client.ts";
import { createGimoApi, type GimoApi } from "./api.ts";
import { createMcpServer } from "./server.ts";

/**
 * `gimo mcp`: the MCP server on stdin/stdout for a coding agent that starts it as a subprocess.
 * It holds no data: every tool calls a GIMO server over HTTP with the given token. The token is
 * checked once at start (`GET /status`), so a wrong URL or token fails at once with a readable
 * line on stderr instead of as an error inside every tool call. stdout carries only JSON-RPC.
 */
export interface McpStdioOptions {
  url: string;
  token: string;
}

export async function runMcpStdio(
  options: McpStdioOptions,
  io = { stdin: process.stdin, stdout: process.stdout },
) {
  let api: GimoApi;
  try {
    api = createGimoApi(options.url, options.token);
    await api.status();
  } catch (error) {
    if (error instanceof GimoClientError && error.status > 0) {
      const reason =
        error.status === 401 ? "the token was refused (401)" : `GET /status answered ${error.status}`;
      throw new Error(`GIMO at ${options.url}: ${reason}; set GIMO_TOKEN or pass --token`);
    }
    throw new Error(`cannot reach GIMO at ${options.url}: ${error instanceof Error ? error.message : error}`);
  }
  const server = createMcpServer(api);
  const transport = new StdioServerTransport(io.stdin, io.stdout);
  const closed = new Promise<void>((resolve) => {
    io.stdin.once("end", resolve);
    io.stdin.once("close", resolve);
  });
  await server.connect(transport);
  await closed;
  await server.close();
  return 0;
}
