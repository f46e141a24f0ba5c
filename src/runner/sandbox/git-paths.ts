import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";

/**
 * Where a workspace's git data lives, so the sandbox can keep it reachable.
 *
 * A plain clone keeps it in `<workspace>/.git` (inside the workspace: nothing to do). A worktree has
 * a `.git` FILE (`gitdir: <main>/.git/worktrees/<name>`); that per-worktree dir holds HEAD and the
 * index, and its `commondir` file points at the shared repository (objects, refs, config).
 *
 *  - `gitDir` must be writable for `git status`/`git diff` to refresh the index and for `git add`
 *    to stage: pass it in `SandboxSpec.extraWritable`;
 *  - `commonDir` must at least be readable (the sandbox does that itself); a command that writes
 *    objects (`git add`, `git commit`, `git stash`) also needs `<commonDir>/objects` writable.
 *    GIMO commits outside the sandbox, so `gitWritablePaths` offers both for callers that want the
 *    agent's own `git add` to work.
 */
export interface WorktreeGitDirs {
  gitDir: string;
  commonDir: string;
}

export async function worktreeGitDirs(workspace: string): Promise<WorktreeGitDirs | undefined> {
  const dotGit = join(workspace, ".git");
  const info = await stat(dotGit).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, "utf8").catch(() => ""));
  if (!pointer?.[1]) return undefined;
  const gitDir = resolve(workspace, pointer[1]);
  const common = (await readFile(join(gitDir, "commondir"), "utf8").catch(() => "")).trim();
  return { gitDir, commonDir: common ? resolve(gitDir, common) : gitDir };
}

/** The worktree's own git dir and the shared object store: enough for `git add` inside the sandbox. */
export async function gitWritablePaths(workspace: string): Promise<string[]> {
  const dirs = await worktreeGitDirs(workspace);
  return dirs ? [dirs.gitDir, join(dirs.commonDir, "objects")] : [];
}
