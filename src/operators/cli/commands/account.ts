import type { Command } from "commander";

/**
 * `gimo login [URL]`, `gimo whoami`, `gimo token create|list|revoke`. Login checks the token
 * against the server (`GET /ops/whoami`) before it stores anything.
 */
export function registerAccountCommands(program: Command): void {
  program
    .command("login")
    .description("check a token against a server and store both in ~/.config/gimo/config.json (0600)")
    .argument("[url]", "the server (default: GIMO_URL or http://127.0.0.1:9325)")
    .option("--token <token>", "the token (visible to other users in `ps`: prefer --token-stdin)")
    .option("--token-stdin", "read the token from standard input")
    .option("--json", "print the identity as JSON")
    .addHelpText(
      "after",
      "\nWithout --token or --token-stdin: asked on a terminal, else read from stdin when it is a pipe,\nelse GIMO_TOKEN. GIMO_URL and GIMO_TOKEN override the stored login for every command.",
    )
    .action(async (url: string | undefined, opts, cmd: Command) => {
      const { login } = await import("../account.ts");
      await login(url ?? cmd.optsWithGlobals().url, opts);
    });

  program
    .command("whoami")
    .description("the identity and role of the token in use, and where it came from")
    .option("--json", "print as JSON (Whoami)")
    .action(async (opts, cmd: Command) => {
      const { whoami } = await import("../account.ts");
      await whoami(cmd.optsWithGlobals(), opts);
    });

  const token = program.command("token").description("mint, list and revoke API tokens (admin)");
  token
    .command("create")
    .description("mint a token; its value is shown once")
    .requiredOption("--role <role>", "admin, operator, actions or runner")
    .option("--name <name>", "its identity in the audit log (default: <role>-<time>)")
    .option("--expires <iso>", "expiry, an ISO 8601 date-time")
    .option("--json", "print as JSON (TokenCreated)")
    .action(async (opts, cmd: Command) => {
      const { createToken } = await import("../account.ts");
      await createToken(cmd.optsWithGlobals(), opts);
    });
  token
    .command("list")
    .description("the minted tokens (never their values)")
    .option("--json", "print as JSON (TokenPage)")
    .action(async (opts, cmd: Command) => {
      const { listTokens } = await import("../account.ts");
      await listTokens(cmd.optsWithGlobals(), opts);
    });
  token
    .command("revoke")
    .description("revoke a token at once (its event streams end)")
    .argument("<id>", "the token id (tk_…)")
    .option("--json", "print as JSON (TokenInfo)")
    .action(async (id: string, opts, cmd: Command) => {
      const { revokeToken } = await import("../account.ts");
      await revokeToken(cmd.optsWithGlobals(), id, opts);
    });
}
