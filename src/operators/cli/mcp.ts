import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

/**
 * `gimo mcp [--url URL] [--token T]`: where the stdio MCP server finds GIMO. The URL comes from
 * `--url`, else `GIMO_URL`, else `http://127.0.0.1:9325`; the token from `--token`, else
 * `GIMO_TOKEN`, else `<GIMO_DATA_DIR>/admin.token` written by a server on this machine.
 */
export const MCP_USAGE = `usage: gimo mcp [--url URL] [--token T]

The MCP server on stdin/stdout, for a coding agent that starts it (Claude Code, Cursor, VS Code,
Codex…). Every tool calls the GIMO server at URL with the token's rights; there is no approve tool.

  --url URL     the GIMO server (default: GIMO_URL, else http://127.0.0.1:9325)
  --token T     a bearer token (default: GIMO_TOKEN, else <GIMO_DATA_DIR>/admin.token)

Configuration for each agent: docs/mcp.md.
`;

export async function runMcp(values: { url?: string; token?: string }, env = process.env): Promise<number> {
  const url = values.url ?? env.GIMO_URL ?? "http://127.0.0.1:9325";
  const token = values.token ?? env.GIMO_TOKEN ?? (await tokenFile(env));
  if (!token)
    throw new Error("no token: pass --token, set GIMO_TOKEN, or run it where the server's admin.token is");
  const { runMcpStdio } = await import("../mcp/stdio.ts");
  return runMcpStdio({ url, token });
}

async function tokenFile(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const file = join(resolve(env.GIMO_DATA_DIR || ".orch_data"), "admin.token");
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text?.trim() || undefined;
}
