import type { Command } from "commander";

/** The running half of the loop: `gimo run`, `runs`, `watch`, `logs`, `cancel`. */
export function registerRunCommands(program: Command): void {
  program
    .command("run")
    .description("queue a run of an approved plan (operator); a draft id is refused")
    .argument("<approved>", "the approved plan's id (a_…)")
    .option("--follow", "follow it to its end (exit code = its outcome)")
    .option("--parallel", "queue it even while the plan has a queued or running run (allow_parallel)")
    .option("--json", "print as JSON (Run; with --follow, one event per line, then the Run)")
    .action(async (id: string, opts, cmd: Command) => {
      const { createRun } = await import("../runs.ts");
      await createRun(cmd.optsWithGlobals(), id, opts);
    });

  program
    .command("runs")
    .description("list runs, newest first")
    .option("--status <status>", "queued, running, succeeded, failed or cancelled")
    .option("--task <id>", "only this task's")
    .option("--project <id>", "only this project's")
    .option("--limit <n>", "how many (1-200)", "20")
    .option("--json", "print as JSON (RunPage)")
    .action(async (opts, cmd: Command) => {
      const { listRuns } = await import("../runs.ts");
      await listRuns(cmd.optsWithGlobals(), opts);
    });

  program
    .command("watch")
    .description("follow a run: its steps and log lines live, then its outcome (exit code = outcome)")
    .argument("<run>", "the run id (r_…)")
    .option("--json", "one event per line as JSON, then the Run")
    .action(async (id: string, opts, cmd: Command) => {
      const { watch } = await import("../runs.ts");
      await watch(cmd.optsWithGlobals(), id, opts);
    });

  program
    .command("logs")
    .description("a run's log lines; --follow streams them until it ends (exit code = outcome)")
    .argument("<run>", "the run id (r_…)")
    .option("-f, --follow", "stream new lines until the run ends; resumes after a dropped connection")
    .option("--json", "print as JSON (RunLogPage; with --follow, one event per line, then the Run)")
    .action(async (id: string, opts, cmd: Command) => {
      const { logs } = await import("../runs.ts");
      await logs(cmd.optsWithGlobals(), id, opts);
    });

  program
    .command("cancel")
    .description("cancel a run (operator): a queued one at once, a running one by its runner")
    .argument("<run>", "the run id (r_…)")
    .option("--reason <text>", "why, for the audit log")
    .option("--json", "print as JSON (Run)")
    .action(async (id: string, opts, cmd: Command) => {
      const { cancel } = await import("../runs.ts");
      await cancel(cmd.optsWithGlobals(), id, opts);
    });
}
