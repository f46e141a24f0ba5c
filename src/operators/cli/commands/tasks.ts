import type { Command } from "commander";

/**
 * The planning half of the loop: `gimo task`, `tasks`, `drafts`, `show`, `revise`, `approve`,
 * `reject`. Only `approve` turns a draft into something that can run.
 */
export function registerTaskCommands(program: Command): void {
  program
    .command("task")
    .description("ask the planner for a plan: a task and its first draft")
    .argument("<prompt...>", "what to do, in words")
    .option("--project <id>", "the project (default: the default project, which the answer names)")
    .option("--wait", "wait for the plan and show it (the default)", true)
    .option("--no-wait", "answer at once with the draft id while the planner works")
    .option("--json", "print the draft as JSON (Draft)")
    .action(async (words: string[], opts, cmd: Command) => {
      const { createTask } = await import("../tasks.ts");
      await createTask(cmd.optsWithGlobals(), words.join(" "), opts);
    });

  program
    .command("tasks")
    .description("list tasks, newest first")
    .option(
      "--status <status>",
      "PLANNING, PLANNED, APPROVED, EXECUTING, COMPLETED, FAILED, REJECTED or CANCELLED",
    )
    .option("--project <id>", "only this project's")
    .option("--limit <n>", "how many (1-200)", "20")
    .option("--json", "print as JSON (TaskPage)")
    .action(async (opts, cmd: Command) => {
      const { listTasks } = await import("../tasks.ts");
      await listTasks(cmd.optsWithGlobals(), opts);
    });

  program
    .command("drafts")
    .description("list drafts, newest first")
    .option("--status <status>", "generating, draft, approved, rejected, superseded, error")
    .option("--task <id>", "only this task's revisions")
    .option("--project <id>", "only this project's")
    .option("--limit <n>", "how many (1-200)", "20")
    .option("--json", "print as JSON (DraftPage)")
    .action(async (opts, cmd: Command) => {
      const { listDrafts } = await import("../tasks.ts");
      await listDrafts(cmd.optsWithGlobals(), opts);
    });

  program
    .command("show")
    .description("show a task, draft, approved plan, run or project by its id")
    .argument("<id>", "t_…, d_…, a_…, r_… or p_…")
    .option("--json", "print as JSON (TaskDetail, Draft, Approved, Run or Project)")
    .action(async (id: string, opts, cmd: Command) => {
      const { show } = await import("../tasks.ts");
      await show(cmd.optsWithGlobals(), id, opts);
    });

  program
    .command("revise")
    .description("a new revision of a draft: from your feedback (the planner rewrites it) or edited by hand")
    .argument("<draft>", "the draft id (d_…)")
    .argument("[feedback...]", "what to change, in words")
    .option("--edit", "open the plan in $VISUAL/$EDITOR, validate it and save it")
    .option("--format <format>", "with --edit: yaml or json", "yaml")
    .option("--no-wait", "with feedback: answer at once while the planner works")
    .option("--json", "print the new draft as JSON (Draft)")
    .action(async (draft: string, feedback: string[], opts, cmd: Command) => {
      const { revise } = await import("../tasks.ts");
      await revise(cmd.optsWithGlobals(), draft, feedback.join(" "), opts);
    });

  program
    .command("approve")
    .description("approve a draft: an immutable snapshot that may run (operator)")
    .argument("<draft>", "the draft id (d_…)")
    .option("--run", "queue a run of it at once")
    .option("--no-run", "do not queue a run, even if the plan document says so")
    .option("--follow", "with --run: follow the run to its end (exit code = its outcome)")
    .option("--json", "print as JSON (ApproveResult)")
    .action(async (draft: string, opts, cmd: Command) => {
      const { approve } = await import("../tasks.ts");
      await approve(cmd.optsWithGlobals(), draft, opts);
    });

  program
    .command("reject")
    .description("reject a draft (operator)")
    .argument("<draft>", "the draft id (d_…)")
    .option("--reason <text>", "why, for the audit log")
    .option("--json", "print as JSON (Draft)")
    .action(async (draft: string, opts, cmd: Command) => {
      const { reject } = await import("../tasks.ts");
      await reject(cmd.optsWithGlobals(), draft, opts);
    });
}
