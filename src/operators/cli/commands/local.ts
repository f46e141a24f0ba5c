import type { Command } from "commander";

/**
 * The commands that are GIMO itself rather than a client of it: `serve`, `runner`, `run-task` and
 * `demo`. They load the server's or the runner's modules, and only when they run.
 */
export function registerLocalCommands(program: Command): void {
  program
    .command("serve")
    .description("start the API, the event streams and the embedded runner")
    .option("--repo <path>", "register this repository as the default project")
    .option("--port <n>", "port (default GIMO_PORT or 9325; 0 = any free port)")
    .option("--host <address>", "address to listen on (default GIMO_HOST or 127.0.0.1)")
    .option("--print-systemd-unit", "print a hardened systemd unit that runs this command, and exit")
    .addHelpText(
      "after",
      "\nEnvironment: GIMO_DATA_DIR, DATABASE_URL, ORCH_*_TOKEN, GIMO_PROVIDERS_FILE … (README, Configuration).",
    )
    .action(async (opts) => {
      if (opts.printSystemdUnit) return printUnit("serve");
      const { runServe } = await import("../serve.ts");
      process.exitCode = await runServe(opts);
    });

  program
    .command("runner")
    .description("a runner on any machine: claims approved runs over HTTP and executes them")
    .option(
      "--server <url>",
      "a GIMO server; repeat it or separate URLs by commas for replicas to fail over between (default GIMO_URL or http://127.0.0.1:9325)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--token <token>", "a runner token (default GIMO_TOKEN or ORCH_RUNNER_TOKEN)")
    .option("--concurrency <n>", "runs at once (1-64)", "1")
    .option("--labels <a,b>", "labels this runner offers")
    .option("--name <name>", "its name (default host:pid)")
    .option("--handler <module>", "a module whose `handler` export replaces the built-in executor")
    .option(
      "--grace <seconds>",
      "on SIGTERM, how long running work may finish before it is handed back",
      "25",
    )
    .option("--work-dir <dir>", "where mirrors and worktrees live (default <GIMO_DATA_DIR>/runner-work)")
    .option("--print-systemd-unit", "print a hardened systemd unit that runs this command, and exit")
    .action(async (opts) => {
      if (opts.printSystemdUnit) return printUnit("runner");
      const { runRunner } = await import("../runner.ts");
      process.exitCode = await runRunner({ ...opts, workDir: opts.workDir });
    });

  program
    .command("run-task")
    .description("the whole pipeline in one process: plan, approve on the terminal, run, print the branch")
    .argument("<prompt...>", "what to do, in words")
    .requiredOption("--repo <path>", "the repository to work on")
    .option("--yes", "approve the plan without asking (needed without a terminal)")
    .option("--test <command>", "the command that runs the repository's tests")
    .option(
      "--providers <file>",
      "a JSON file {planner, executor} as in PUT /ops/provider (default GIMO_PROVIDERS_FILE)",
    )
    .addHelpText(
      "after",
      `\nA model is needed: --providers FILE or GIMO_PROVIDERS_FILE, e.g.
  {"planner":  {"type":"openai_compat","base_url":"https://api.openai.com/v1","model":"gpt-4.1","api_key":"\${OPENAI_API_KEY}"},
   "executor": {"type":"openai_compat","base_url":"https://api.openai.com/v1","model":"gpt-4.1","api_key":"\${OPENAI_API_KEY}"}}
Exit code: 0 when the run succeeded (docs/cli.md#exit-codes).`,
    )
    .action(async (words: string[], opts) => {
      const { runTaskCommand } = await import("../run-task-command.ts");
      await runTaskCommand(words.join(" "), opts);
    });

  program
    .command("demo")
    .description("the whole pipeline offline on a throwaway repository with a scripted model")
    .option("--keep", "keep the temporary directory (repository, remote, data) and print where it is")
    .action(async (opts) => {
      const { runDemo } = await import("../demo.ts");
      process.exitCode = await runDemo(
        { write: (t) => process.stdout.write(t) },
        { keep: opts.keep === true },
      );
    });
}

async function printUnit(kind: "serve" | "runner"): Promise<void> {
  const { systemdUnit } = await import("../systemd.ts");
  process.stdout.write(systemdUnit(kind, process.cwd()));
}
