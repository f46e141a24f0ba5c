import { Command } from "commander";
import { registerAccountCommands } from "./commands/account.ts";
import { registerAgentCommands } from "./commands/agents.ts";
import { registerAuditCommands } from "./commands/audit.ts";
import { registerCompletionCommand } from "./commands/completion.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerLocalCommands } from "./commands/local.ts";
import { registerOperationCommands } from "./commands/operations.ts";
import { registerProjectCommands } from "./commands/projects.ts";
import { registerRunCommands } from "./commands/runs.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { registerTaskCommands } from "./commands/tasks.ts";

/**
 * The `gimo` command tree, parsed by commander. Each entry of `commandTable` adds its commands to
 * the program; a command's module holds only its definition (names, options, help) and loads what
 * its action needs when it runs, so `gimo --help` starts in the time of Node itself. The order of
 * the table is the order of `gimo --help` and of docs/cli.md.
 *
 * Adding a command: write `commands/<topic>.ts` exporting `register…(program)` that calls
 * `program.command(…)`, and add it to the table below.
 */
export type Register = (program: Command) => void;

export const commandTable: readonly Register[] = [
  registerAccountCommands, // login, whoami, token create|list|revoke
  registerProjectCommands, // projects add|list
  registerTaskCommands, // task, tasks, drafts, show, revise, approve, reject
  registerRunCommands, // run, runs, watch, logs, cancel
  registerStatusCommand, // status
  registerDoctorCommand, // doctor
  registerAuditCommands, // audit verify|head
  registerLocalCommands, // serve, runner, run-task, demo — the commands that work without a server
  registerOperationCommands, // backup, restore, purge
  registerAgentCommands, // mcp, telegram — operators that run beside a server
  registerCompletionCommand, // completion bash|zsh|fish
];

export function buildProgram(version: string): Command {
  const program = new Command("gimo")
    .description("Plan, approve and run AI coding tasks on your repositories.")
    .version(version, "-V, --version", "print the version")
    .option("--url <url>", "the GIMO server (default: GIMO_URL, the stored login, http://127.0.0.1:9325)")
    .helpCommand("help [command]", "help for a command")
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText(
      "after",
      `
The daily loop:
  gimo login http://gimo-host:9325        store the server and a token
  gimo projects add ~/code/shop           register a repository
  gimo task "Reject negative stock"       a planner drafts a plan; read it
  gimo approve d_… --run                  approve it and queue a run
  gimo logs r_… --follow                  follow it to its branch link

Exit codes: docs/cli.md#exit-codes. Environment: GIMO_URL, GIMO_TOKEN, NO_COLOR.`,
    );
  for (const register of commandTable) register(program);
  for (const command of allCommands(program)) command.exitOverride();
  return program;
}

/** The program and every command under it, depth first. */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((sub) => allCommands(sub))];
}
