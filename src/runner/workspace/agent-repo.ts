import { copyFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GitRunner } from "./git.ts";
import { withRepoLock } from "./lock.ts";

/**
 * The agent's own `.git`: the trust boundary's other half.
 *
 * `git worktree add` leaves a `.git` FILE in the worktree pointing at the worktree's git dir in the
 * repository (`<common>/worktrees/<name>`: HEAD, the index). A command in the sandbox could rewrite
 * that pointer or plant state in that dir (MERGE_HEAD, hooks, a config, a symlinked reflog), so
 * before the first command runs GIMO replaces the pointer with a repository that belongs to the
 * agent alone: a shallow clone of the task branch only (the last `HISTORY_DEPTH` commits of it),
 * so the agent has the history it works on and nothing else of the repository — not the user's
 * other local branches, not a stash, not what only a reflog remembers.
 *
 *   .git/HEAD                          ref: refs/heads/<task branch>
 *   .git/refs/heads/<task branch>      the commit the worktree was checked out at
 *   .git/refs/remotes/<remote>/<base>  the base, when the clone has it (`git diff origin/main`)
 *   .git/shallow, .git/objects/pack    that history, its own copy
 *   .git/index                         a copy of the checkout's index (status is instant)
 *   .git/config                        the object format and an identity, nothing else
 *
 * Inside the sandbox git works as in any clone: status, diff, log, even commits, which land in
 * the agent's own object store. GIMO never reads any of it: its git dir stays outside the sandbox,
 * and it commits the worktree's FILES with that git dir and its own index (commit.ts).
 */
export const HISTORY_DEPTH = 50;

export interface AgentRepoInput {
  path: string;
  gitDir: string;
  commonDir: string;
  /** The repository's worktree lock: the swap of `.git` happens under it (see below). */
  lockFile: string;
  branch: string;
  baseBranch: string;
  baseSha: string;
  remote: string | null;
}

export async function writeAgentRepo(input: AgentRepoInput, git: GitRunner): Promise<void> {
  // Built beside the worktree, then swapped in under the repository's lock: while `.git` is
  // missing, a concurrent `git worktree prune` would take the worktree for gone and delete its
  // git dir (prunes run under that lock).
  const dotGit = `${input.path}.agent-git`;
  await rm(dotGit, { recursive: true, force: true });
  // biome-ignore format: argv
  await git.run([
    "clone", "-q", "--bare", "--no-local", "--single-branch", "--no-tags",
    "--branch", input.branch, "--depth", String(HISTORY_DEPTH), input.commonDir, dotGit,
  ], { timeoutMs: 30 * 60_000 });
  const format = (await git.run(["--git-dir", dotGit, "rev-parse", "--show-object-format"])).stdout.trim();
  await writeFile(
    join(dotGit, "config"),
    [
      "[core]",
      `\trepositoryformatversion = ${format === "sha1" ? 0 : 1}`,
      "\tfilemode = true",
      "\tbare = false",
      "\tlogallrefupdates = true",
      "\tcheckStat = minimal",
      "\ttrustctime = false",
      ...(format === "sha1" ? [] : ["[extensions]", `\tobjectformat = ${format}`]),
      "[user]",
      "\tname = GIMO executor",
      "\temail = executor@gimo.invalid",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dotGit, "description"),
    "The executor's own repository; GIMO commits the worktree's files, not this.\n",
  );
  const hasBase = await git.run(["--git-dir", dotGit, "cat-file", "-e", `${input.baseSha}^{commit}`], {
    allowExit: [1, 128],
  });
  if (input.remote && hasBase.exitCode === 0) {
    await git.run([
      "--git-dir",
      dotGit,
      "update-ref",
      `refs/remotes/${input.remote}/${input.baseBranch}`,
      input.baseSha,
    ]);
  }
  await copyFile(join(input.gitDir, "index"), join(dotGit, "index"));
  await withRepoLock(input.lockFile, async () => {
    await rm(join(input.path, ".git"), { recursive: true, force: true });
    await rename(dotGit, join(input.path, ".git"));
  });
}
