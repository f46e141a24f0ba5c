import type { Command } from "commander";

/**
 * The operators that run as their own process beside a server: `gimo mcp` (the MCP server on
 * stdio, for a coding agent that starts it) and `gimo telegram` (the Telegram bot alone, on the
 * same database as `gimo serve`).
 */
export function registerAgentCommands(program: Command): void {
  program
    .command("mcp")
    .description("the MCP server on stdin/stdout, for coding agents (Claude Code, Cursor, VS Code, Codex…)")
    .option(
      "--token <token>",
      "a bearer token (default: GIMO_TOKEN, the stored login, <GIMO_DATA_DIR>/admin.token)",
    )
    .addHelpText(
      "after",
      `
Every tool calls the GIMO server (--url, GIMO_URL, the stored login) with the token's rights;
there is no approve tool. Configuration for each agent: docs/mcp.md.`,
    )
    .action(async (opts: { token?: string }, command: Command) => {
      const { url } = command.optsWithGlobals() as { url?: string };
      const { runMcp } = await import("../mcp.ts");
      process.exitCode = await runMcp({ url, token: opts.token });
    });

  program
    .command("telegram")
    .description("the Telegram bot alone (TELEGRAM_BOT_TOKEN; the same database as gimo serve)")
    .addHelpText("after", "\nConfiguration: docs/chat-and-telegram.md.")
    .action(async () => {
      const { runTelegram } = await import("../../telegram/run.ts");
      process.exitCode = await runTelegram();
    });
}
