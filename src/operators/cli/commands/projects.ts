import type { Command } from "commander";

/** `gimo projects add PATH|URL`, `list`, `archive`, `unarchive`, `delete`. */
export function registerProjectCommands(program: Command): void {
  const projects = program.command("projects").description("the repositories GIMO works on");
  projects
    .command("add")
    .description("register a repository (a local path or a git URL) as a project (admin)")
    .argument("<repo>", "a path on the server's machine, or a clone URL (https://…, ssh://…, git@host:path)")
    .option("--name <name>", "the project's name (default: the repository's directory name)")
    .option("--test <command>", 'the command that runs its tests, e.g. "npm test"')
    .option("--base <branch>", "the branch tasks start from (default: the repository's HEAD)")
    .option(
      "--link <template>",
      "link_template for a pushed branch, e.g. https://github.com/o/r/tree/{branch}",
    )
    .option("--json", "print as JSON (Project)")
    .action(async (repo: string, opts, cmd: Command) => {
      const { addProject } = await import("../projects.ts");
      await addProject(cmd.optsWithGlobals(), repo, opts);
    });
  projects
    .command("list")
    .description("the registered projects; the default one is marked")
    .option("--json", "print as JSON (ProjectPage)")
    .action(async (opts, cmd: Command) => {
      const { listProjects } = await import("../projects.ts");
      await listProjects(cmd.optsWithGlobals(), opts);
    });
  for (const [name, archived, what] of [
    ["archive", true, "close a project: no new tasks, chats or runs; its history stays readable (admin)"],
    ["unarchive", false, "reopen an archived project (admin)"],
  ] as const) {
    projects
      .command(name)
      .description(what)
      .argument("<project_id>", "the project (p_…)")
      .option("--json", "print as JSON (Project)")
      .action(async (id: string, opts, cmd: Command) => {
        const { archiveProject } = await import("../projects.ts");
        await archiveProject(cmd.optsWithGlobals(), id, archived, opts);
      });
  }
  projects
    .command("delete")
    .description("delete a project nothing references (no tasks, no chats; not the default) (admin)")
    .argument("<project_id>", "the project (p_…)")
    .option("--json", "print as JSON (ProjectDeleted)")
    .action(async (id: string, opts, cmd: Command) => {
      const { deleteProject } = await import("../projects.ts");
      await deleteProject(cmd.optsWithGlobals(), id, opts);
    });
}
