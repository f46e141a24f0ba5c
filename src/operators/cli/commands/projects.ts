import type { Command } from "commander";

/** `gimo projects add PATH|URL`, `gimo projects list`. */
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
}
