import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GitRunner } from "./git.ts";

/**
 * The agent's own `.git`: the trust boundary's other half.
 *
 * `git worktree add` leaves a `.git` FILE in the worktree pointing at the worktree's git dir in the
 * repository (`<common>/worktrees/<name>`: HEAD, the index). A command in the sandbox could rewrite
 * that pointer or plant state in that dir (MERGE_HEAD, hooks, a config, a symlinked reflog), so
 * before the first command runs GIMO replaces the pointer with a self-contained repository that
 * belongs to the agent alone:
 *
 *   .git/HEAD                          ref: refs/heads/<task branch>
 *   .git/refs/heads/<task branch>      the commit the worktree was checked out at
 *   .git/refs/remotes/<remote>/<base>  the base, so `git diff origin/main` works
 *   .git/objects/info/alternates       the repository's object store, as the sandbox shows it
 *                                      (read-only: history without copying it)
 *   .git/index                         a copy of the checkout's index (status is instant)
 *   .git/config                        the object format and an identity, nothing else
 *
 * Inside the sandbox git works as in any clone: status, diff, log, even commits, which land in
 * the agent's own object store. GIMO never reads any of it: its git dir stays outside the sandbox,
 * and it commits the worktree's FILES with that git dir and its own index (commit.ts).
 */
export interface AgentRepoInput {
  path: string;
  gitDir: string;
  repoDir: string;
  branch: string;
  startSha: string;
  baseBranch: string;
  baseSha: string;
  remote: string | null;
  /** Where the repository's object store appears to commands. */
  objects: string;
}

export async function writeAgentRepo(input: AgentRepoInput, git: GitRunner): Promise<void> {
  const format = (await git.run(["-C", input.repoDir, "rev-parse", "--show-object-format"])).stdout.trim();
  const dotGit = join(input.path, ".git");
  await rm(dotGit, { recursive: true, force: true });
  const files: Record<string, string> = {
    HEAD: `ref: refs/heads/${input.branch}\n`,
    [`refs/heads/${input.branch}`]: `${input.startSha}\n`,
    "objects/info/alternates": `${input.objects}\n`,
    description: "The executor's own repository; GIMO commits the worktree's files, not this.\n",
    config: [
      "[core]",
      `\trepositoryformatversion = ${format === "sha1" ? 0 : 1}`,
      "\tfilemode = true",
      "\tbare = false",
      "\tlogallrefupdates = true",
      ...(format === "sha1" ? [] : ["[extensions]", `\tobjectformat = ${format}`]),
      "[user]",
      "\tname = GIMO executor",
      "\temail = executor@gimo.invalid",
      "",
    ].join("\n"),
  };
  if (input.remote) files[`refs/remotes/${input.remote}/${input.baseBranch}`] = `${input.baseSha}\n`;
  for (const dir of ["refs/tags", "objects/pack"]) await mkdir(join(dotGit, dir), { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const file = join(dotGit, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  await copyFile(join(input.gitDir, "index"), join(dotGit, "index"));
}
