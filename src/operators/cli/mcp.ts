import { resolveTarget } from "./session.ts";

/**
 * `gimo mcp [--url URL] [--token T]`: where the stdio MCP server finds GIMO — the same server and
 * token every other command uses (session.ts), `--token` first.
 */
export async function runMcp(values: { url?: string; token?: string }, env = process.env): Promise<number> {
  const target = resolveTarget({ url: values.url }, env);
  const token = values.token ?? target.token;
  if (!token)
    throw new Error(
      "no token: pass --token, set GIMO_TOKEN, run `gimo login`, or run it where the server's admin.token is",
    );
  const { runMcpStdio } = await import("../mcp/stdio.ts");
  return runMcpStdio({ url: target.url, token });
}
