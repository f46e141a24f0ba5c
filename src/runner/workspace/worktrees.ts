import { execFile } from "node:child_process";
import { chmod, lstat, readdir, readFile, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { GimoError } from "../../core/errors.ts";
import type { GitRunner } from "./git.ts";
import { currentOwner, isAlive, type Owner } from "./lock.ts";
import { walkTree } from "./tree-walk.ts";

/**
 * Bookkeeping of the worktrees GIMO makes: who owns one, whether a branch is free to check out, and
 * removing a worktree even when the run left it unremovable.
 *
 * Git refuses to check a branch out in two worktrees, and it must: two runs committing to one
 * branch from two worktrees corrupt each other. So before a run checks out its task branch:
 *  - a worktree whose directory is gone is forgotten (`git worktree prune`, by the caller);
 *  - a worktree on that branch inside this runner's `worktrees/` whose owner (`<dir>.owner.json`:
 *    pid, host, boot id, run id) is dead is a leftover of a crashed attempt: it is removed, so the
 *    retry can reuse the branch;
 *  - anything else on that branch (a live run of the same task, the user's own checkout) is a
 *    `conflict`, never a second checkout.
 */
export interface WorktreeEntry {
  path: string;
  branch: string | null;
}

export async function listWorktrees(git: GitRunner, repoDir: string): Promise<WorktreeEntry[]> {
  const { stdout } = await git.run(["-C", repoDir, "worktree", "list", "--porcelain"]);
  const entries: WorktreeEntry[] = [];
  for (const block of stdout.split("\n\n")) {
    const path = /^worktree (.*)$/m.exec(block)?.[1];
    if (!path) continue;
    entries.push({ path, branch: /^branch (.*)$/m.exec(block)?.[1] ?? null });
  }
  return entries;
}

export function ownerFile(worktreePath: string): string {
  return `${worktreePath}.owner.json`;
}

export interface OwnerRecord {
  runId: string;
  /** The repository and lock the worktree belongs to, so a sweep can remove it properly. */
  repoDir: string;
  lockFile: string;
}

export async function writeOwner(worktreePath: string, record: OwnerRecord): Promise<void> {
  await writeFile(ownerFile(worktreePath), JSON.stringify({ ...currentOwner(), ...record }));
}

/** The worktrees under `worktreesDir` whose owner is dead (and that say where they belong). */
export async function staleWorktrees(worktreesDir: string): Promise<(OwnerRecord & { path: string })[]> {
  const names = await readdir(worktreesDir).catch(() => [] as string[]);
  const stale: (OwnerRecord & { path: string })[] = [];
  for (const name of names.filter((n) => n.endsWith(".owner.json"))) {
    const path = join(worktreesDir, name.slice(0, -".owner.json".length));
    const owner = await ownerAlive(path);
    if (!owner.alive && owner.record?.repoDir && owner.record.lockFile) {
      stale.push({
        path,
        runId: owner.record.runId ?? "",
        repoDir: owner.record.repoDir,
        lockFile: owner.record.lockFile,
      });
    }
  }
  return stale;
}

async function ownerAlive(worktreePath: string): Promise<{ alive: boolean; record?: Partial<OwnerRecord> }> {
  try {
    const file = ownerFile(worktreePath);
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    const owner = JSON.parse(text) as Partial<Owner> & Partial<OwnerRecord>;
    return { alive: isAlive(owner, Date.now() - info.mtimeMs), record: owner };
  } catch {
    return { alive: false }; // made but never owned: a crash between `worktree add` and the owner file
  }
}

/** Makes sure `branch` is checked out nowhere, removing a dead run's leftover worktree if need be. */
export async function freeBranch(
  git: GitRunner,
  repoDir: string,
  branch: string,
  worktreesDir: string,
): Promise<void> {
  const holder = (await listWorktrees(git, repoDir)).find((w) => w.branch === `refs/heads/${branch}`);
  if (!holder) return;
  if (!holder.path.startsWith(worktreesDir + sep)) {
    throw new GimoError(
      "conflict",
      `task branch ${branch} is checked out in ${holder.path}, outside GIMO's worktrees`,
    );
  }
  const owner = await ownerAlive(holder.path);
  if (owner.alive) {
    throw new GimoError(
      "conflict",
      `task branch ${branch} is in use by ${owner.record?.runId ?? "another run"} (worktree ${holder.path}); one run per task branch at a time`,
    );
  }
  await dropWorktree(git, repoDir, holder.path);
}

/**
 * Deletes the worktree's files (never following a symlink in them), then `git worktree prune`
 * forgets it; the owner file goes too. Not `git worktree remove`: that reads the worktree's `.git`,
 * which a command may have rewritten.
 */
export async function dropWorktree(git: GitRunner, repoDir: string, worktreePath: string): Promise<void> {
  await forceRemoveDir(worktreePath);
  await forceRemoveDir(`${worktreePath}.agent-git`); // an agent repo being built when the run died
  await git.run(["-C", repoDir, "worktree", "prune"]);
  await unlink(ownerFile(worktreePath)).catch(() => undefined);
}

/**
 * `rm -rf` (coreutils: fast, never follows a symlink, any name), and where that fails — a
 * directory a build or an agent made read-only, no `rm` — a walk by bytes through descriptors
 * that makes directories writable on its way.
 */
export async function forceRemoveDir(path: string): Promise<void> {
  const removed = await new Promise<boolean>((resolve) =>
    execFile("rm", ["-rf", "--", path], (error) => resolve(!error)),
  );
  if (removed && !(await lstat(path).catch(() => undefined))) return;
  await removeByBytes(path);
}

async function removeByBytes(path: string): Promise<void> {
  const root = await lstat(path).catch(() => undefined);
  if (!root?.isDirectory()) {
    if (root) await unlink(path);
    return;
  }
  await chmod(path, 0o700).catch(() => undefined);
  await walkTree(path, {
    visit: async ({ at, dirent }) => {
      if (dirent.isDirectory()) await chmod(at, 0o700).catch(() => undefined);
      else await unlink(at);
      return true;
    },
    leave: ({ at }) => rmdir(at),
  });
  await rmdir(path);
}
