import { basename, resolve } from "node:path";
import { c, print, printJson, table } from "./output.ts";
import { connect } from "./session.ts";

/** The actions of `gimo projects add|list|archive|unarchive|delete`. */
interface Globals {
  url?: string;
}

/** A clone URL (`scheme://…` or scp-like `user@host:path`), else a local path. */
export function isRepoUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^\w[\w.-]*@\w[\w.-]*:/.test(repo);
}

export async function addProject(
  globals: Globals,
  repo: string,
  opts: { name?: string; test?: string; base?: string; link?: string; json?: boolean },
): Promise<void> {
  const url = isRepoUrl(repo);
  const where = url ? { repo_url: repo } : { repo_path: resolve(repo) };
  const name =
    opts.name ?? basename(repo.replace(/\.git$/, "").replace(/\/+$/, "")).replace(/[^\w.-]+/g, "-");
  const project = await (await connect(globals)).createProject({
    name,
    ...where,
    ...(opts.test ? { test_command: opts.test } : {}),
    ...(opts.base ? { base_branch: opts.base } : {}),
    ...(opts.link ? { link_template: opts.link } : {}),
  });
  if (opts.json) return printJson(project);
  print(`${c.green("✓")} project ${c.bold(project.name)} ${project.id} (base ${project.base_branch})`);
  if (project.is_default)
    print(`  It is the default project: \`gimo task\` without --project plans against it.`);
  print(`\nNext: gimo task "what to do"${project.is_default ? "" : ` --project ${project.id}`}`);
}

export async function listProjects(globals: Globals, opts: { json?: boolean }): Promise<void> {
  const page = await (await connect(globals)).listProjects({ limit: 200 });
  if (opts.json) return printJson(page);
  const rows = page.items.map((p) => [
    p.id,
    p.is_default
      ? `${p.name} ${c.green("(default)")}`
      : p.archived_at
        ? `${p.name} ${c.dim("(archived)")}`
        : p.name,
    p.repo_path ?? p.repo_url ?? "",
    p.base_branch,
    p.test_command ?? c.dim("—"),
  ]);
  print(await table(["id", "name", "repository", "base", "tests"], rows));
}

export async function archiveProject(
  globals: Globals,
  id: string,
  archived: boolean,
  opts: { json?: boolean },
): Promise<void> {
  const client = await connect(globals);
  const project = archived ? await client.archiveProject(id) : await client.unarchiveProject(id);
  if (opts.json) return printJson(project);
  print(
    archived
      ? `${c.green("✓")} project ${c.bold(project.name)} archived: no new tasks, chats or runs (gimo projects unarchive ${id})`
      : `${c.green("✓")} project ${c.bold(project.name)} is open again`,
  );
}

export async function deleteProject(globals: Globals, id: string, opts: { json?: boolean }): Promise<void> {
  const answer = await (await connect(globals)).deleteProject(id);
  if (opts.json) return printJson(answer);
  print(`${c.green("✓")} project ${id} deleted (its audit events stay)`);
}
