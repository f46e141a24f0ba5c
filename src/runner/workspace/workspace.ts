import { randomBytes } from "node:crypto";
import { access, mkdir, realpath, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { assertPushable, type BranchRules, refNameProblem, taskBranch } from "../../core/git-policy.ts";
import { handOver as giveTo, type SandboxUser } from "../sandbox/identity.ts";
import { writeAgentRepo } from "./agent-repo.ts";
import { credentialEnv, stripCredentials } from "./credentials.ts";
import { createGitRunner, type GitRunner } from "./git.ts";
import { withRepoLock } from "./lock.ts";
import { fetchBranches, mirrorPaths, syncMirror } from "./mirror.ts";
import type { PreparedWorkspace } from "./prepared.ts";
import {
  dropWorktree,
  forceRemoveDir,
  freeBranch,
  ownerFile,
  staleWorktrees,
  writeOwner,
} from "./worktrees.ts";

export { commitAll, diffText, type FileChangeRow, fileChanges } from "./commit.ts";
export type { PreparedWorkspace } from "./prepared.ts";
export { pushBranch } from "./push.ts";
export { worktreeDiff } from "./worktree-diff.ts";

/**
 * A run's workspace (SPEC §4 step 1): a `git worktree` of the project's repository, on the task
 * branch `<branch_prefix><task id>`, in `<root>/worktrees/<run id>-<attempt or random>`.
 *
 *   repo_path  the worktree belongs to that repository. When it has the project's remote, its
 *              branches are fetched first (into `refs/remotes/<remote>/*` only) and the base is
 *              `<remote>/<base>`; without the remote, the local `<base>`.
 *   repo_url   the worktree belongs to this runner's mirror of the URL (`mirror.ts`), cloned once
 *              and fetched before every run; the base is `origin/<base>`.
 *
 * The task branch must pass the push policy (`assertPushable`) before any git command: a run never
 * even checks out a protected or base branch. It is reused when it exists (a retry, or a later run of the same task) — the local
 * branch, fast-forwarded to the remote's when the remote's is ahead, else the remote's; otherwise
 * created from the base tip (no upstream). `baseSha` is the base tip for a new branch and the
 * merge-base with the base for a reused one, so `fileChanges` shows everything the branch adds.
 *
 * Everything that changes the repository's worktree list (fetch, prune, `worktree add`, remove)
 * runs under the repository's lock (`lock.ts`); the checkout itself (`worktree add --no-checkout`,
 * then `reset --hard` in the new worktree) runs outside it, so concurrent runs of one project
 * check out in parallel. No two runs ever share a directory or a branch checkout (`worktrees.ts`).
 *
 * The trust boundary: once the worktree is checked out — before any command of the run — it is
 * handed over to the sandbox. Its `.git` pointer file is replaced by the agent's own repository
 * (agent-repo.ts); when commands run as a dedicated user (GIMO is root), every file becomes theirs
 * and GIMO's index is refreshed to match. From then on nothing in the worktree is trusted: the
 * worktree's git dir (`<common>/worktrees/<name>`: HEAD, the index) is never shown to a command,
 * and GIMO's own git calls name `gitDir`, `commonDir` and the worktree explicitly, from these
 * records (`commit.ts`); `startSha` is the only parent GIMO's commit may have.
 *
 * For `repo_url` the remote is called `origin` inside the mirror whatever the project's `remote`.
 *
 * `removeWorkspace` removes the worktree (forcefully, even when dirty) and prunes; the branch stays.
 * `sweepStaleWorkspaces` removes the leftovers of runs whose process died (for a runner's start).
 */
export interface WorkspaceOptions {
  /** The runner's work directory: `mirrors/` and `worktrees/` are made under it. */
  root: string;
  /** The port over the git CLI; tests only. */
  git?: GitRunner;
  /** How the sandbox will see the worktree (default: as it is on the host, GIMO's own uid). */
  sandbox?: SandboxHandOver;
}

export interface SandboxHandOver {
  /** The uid/gid commands run as, when not GIMO's own: the worktree becomes theirs. */
  user: SandboxUser | undefined;
}

export interface WorkspaceProject extends BranchRules {
  repo_path?: string | null;
  repo_url?: string | null;
  remote: string;
  forge?: { kind: string } | null;
}

export interface PrepareInput {
  runId: string;
  taskId: string;
  project: WorkspaceProject;
  /** The run's attempt: names the directory (`<run id>-<attempt>`); random when absent. */
  attempt?: number;
  /** A forge token for fetching an https remote that needs one. */
  token?: string;
}

interface Source {
  repoDir: string;
  commonDir: string;
  lockFile: string;
  remote: string | null;
  url: string | null;
  sync(): Promise<void>;
}

export async function prepareWorkspace(
  input: PrepareInput,
  opts: WorkspaceOptions,
): Promise<PreparedWorkspace> {
  const git = opts.git ?? createGitRunner();
  const { project } = input;
  const branch = taskBranch(project.branch_prefix, input.taskId);
  // A run never works on a branch it could not push: not protected, not the base, under the prefix.
  assertPushable(branch, project);
  const baseProblem = refNameProblem(project.base_branch);
  if (baseProblem)
    throw new GimoError(
      "validation_failed",
      `base branch ${JSON.stringify(project.base_branch)} ${baseProblem}`,
    );
  await mkdir(join(resolve(opts.root), "worktrees"), { recursive: true });
  const root = await realpath(resolve(opts.root));
  const worktreesDir = join(root, "worktrees");
  const source = await resolveSource(git, input, root);

  const made = await withRepoLock(source.lockFile, async () => {
    await source.sync().catch((error: Error) => {
      const from = `${source.remote} (${stripCredentials(source.url ?? "")})`;
      throw new GimoError(
        "unavailable",
        `could not fetch ${from} to start from the current ${project.base_branch}: ${error.message}`,
      );
    });
    await git.run(["-C", source.repoDir, "worktree", "prune"]);
    const base = await resolveBase(git, source, project.base_branch);
    await freeBranch(git, source.repoDir, branch, worktreesDir);
    const start = await startOf(git, source, branch, base);
    const path = await freshDir(worktreesDir, input.runId, input.attempt);
    const add = ["-C", source.repoDir, "worktree", "add", "-q", "--no-checkout"];
    if (start.create) await git.run([...add, "--no-track", "-b", branch, path, start.create]);
    else await git.run([...add, path, branch]);
    await writeOwner(path, { runId: input.runId, repoDir: source.repoDir, lockFile: source.lockFile });
    return { path, base, reused: start.reused };
  });

  const gitDir = resolve(
    made.path,
    (await git.run(["-C", made.path, "rev-parse", "--absolute-git-dir"])).stdout.trim(),
  );
  const ws: PreparedWorkspace = {
    path: made.path,
    branch,
    baseBranch: project.base_branch,
    baseSha: made.base,
    startSha: made.base,
    reusedBranch: made.reused,
    repoDir: source.repoDir,
    commonDir: source.commonDir,
    gitDir,
    remote: source.remote,
    remoteUrl: source.url ? stripCredentials(source.url) : null,
    lockFile: source.lockFile,
  };
  try {
    await git.run(["-C", made.path, "reset", "-q", "--hard", "HEAD"], { timeoutMs: 30 * 60_000 });
    ws.startSha = (await git.run(["-C", made.path, "rev-parse", "HEAD"])).stdout.trim();
    if (made.reused) ws.baseSha = await mergeBase(git, source.repoDir, branch, made.base);
    await handOver(git, ws, opts.sandbox);
  } catch (error) {
    await removeWorkspace(ws, opts).catch(() => undefined);
    throw error;
  }
  return ws;
}

/**
 * Gives the checked-out worktree to the sandbox: the agent's own `.git` replaces the pointer file,
 * and with a dedicated sandbox user every file becomes theirs. (Both indexes compare files by
 * size and mtime only — `core.checkStat=minimal` — so the new owner does not make git read every
 * file again.)
 */
async function handOver(git: GitRunner, ws: PreparedWorkspace, sandbox: SandboxHandOver | undefined) {
  const user = sandbox?.user;
  if (user) await giveTo(ws.path, user);
  await writeAgentRepo(ws, git);
  if (user) await giveTo(join(ws.path, ".git"), user);
}

/** Removes the run's worktree (even dirty) and prunes; the task branch stays. */
export async function removeWorkspace(ws: PreparedWorkspace, opts: { git?: GitRunner } = {}): Promise<void> {
  const git = opts.git ?? createGitRunner();
  try {
    await withRepoLock(ws.lockFile, () => dropWorktree(git, ws.repoDir, ws.path));
  } catch (error) {
    // The repository itself is gone: nothing to unregister the worktree from, only files to delete.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    await forceRemoveDir(ws.path);
    await unlink(ownerFile(ws.path)).catch(() => undefined);
  }
}

/**
 * Removes the worktrees under `<root>/worktrees` whose runs are dead (a crashed runner's
 * leftovers): call it when a runner starts. Answers the directories removed.
 */
export async function sweepStaleWorkspaces(opts: WorkspaceOptions): Promise<string[]> {
  const git = opts.git ?? createGitRunner();
  const removed: string[] = [];
  for (const stale of await staleWorktrees(join(resolve(opts.root), "worktrees"))) {
    await withRepoLock(stale.lockFile, () => dropWorktree(git, stale.repoDir, stale.path)).then(
      () => removed.push(stale.path),
      () => undefined,
    );
  }
  return removed;
}

async function resolveSource(git: GitRunner, input: PrepareInput, root: string): Promise<Source> {
  const { project } = input;
  const creds = (url: string | null) => credentialEnv(url, input.token, project.forge?.kind);
  if (project.repo_url) {
    const url = project.repo_url.trim();
    const paths = mirrorPaths(root, url);
    await mkdir(dirname(paths.dir), { recursive: true });
    return {
      repoDir: paths.dir,
      commonDir: paths.dir,
      lockFile: paths.lockFile,
      remote: "origin",
      url,
      sync: () => syncMirror(git, paths, url, creds(url)),
    };
  }
  if (!project.repo_path)
    throw new GimoError("validation_failed", "the project has neither repo_path nor repo_url");
  const repoDir = project.repo_path;
  let commonDir: string;
  try {
    commonDir = (
      await git.run(["-C", repoDir, "rev-parse", "--path-format=absolute", "--git-common-dir"])
    ).stdout.trim();
  } catch {
    throw new GimoError("not_found", `repo_path ${repoDir} is not a git repository on this runner`);
  }
  const remoteUrl = await git.run(["-C", repoDir, "remote", "get-url", project.remote], {
    allowExit: [2, 128],
  });
  const url = remoteUrl.exitCode === 0 ? remoteUrl.stdout.trim() : null;
  const remote = url ? project.remote : null;
  return {
    repoDir,
    commonDir,
    lockFile: join(commonDir, "gimo-worktrees.lock"),
    remote,
    url,
    sync: async () => {
      if (remote) await fetchBranches(git, repoDir, remote, creds(url));
    },
  };
}

/** The base branch's tip: `<remote>/<base>` when the remote has it, else the local branch. */
async function resolveBase(git: GitRunner, source: Source, base: string): Promise<string> {
  const candidates = [
    ...(source.remote ? [`refs/remotes/${source.remote}/${base}`] : []),
    `refs/heads/${base}`,
  ];
  for (const ref of candidates) {
    const sha = await revParse(git, source.repoDir, ref);
    if (sha) return sha;
  }
  throw new GimoError(
    "not_found",
    `base branch ${base} not found in ${source.remote ? `${source.remote} or ` : ""}${source.repoDir}`,
  );
}

/** Where the task branch starts: reuse the existing one (fast-forwarded to the remote's), or create it. */
async function startOf(
  git: GitRunner,
  source: Source,
  branch: string,
  baseSha: string,
): Promise<{ reused: boolean; create?: string }> {
  const local = await revParse(git, source.repoDir, `refs/heads/${branch}`);
  const remote = source.remote
    ? await revParse(git, source.repoDir, `refs/remotes/${source.remote}/${branch}`)
    : undefined;
  if (local && remote && local !== remote) {
    const behind = await git.run(["-C", source.repoDir, "merge-base", "--is-ancestor", local, remote], {
      allowExit: [1],
    });
    if (behind.exitCode === 0) {
      await git.run(["-C", source.repoDir, "update-ref", `refs/heads/${branch}`, remote, local]);
    }
  }
  if (local) return { reused: true };
  if (remote) return { reused: true, create: remote };
  return { reused: false, create: baseSha };
}

async function freshDir(worktreesDir: string, runId: string, attempt: number | undefined): Promise<string> {
  const safeRun = runId.replace(/[^A-Za-z0-9_-]/g, "_");
  const first = join(worktreesDir, `${safeRun}-${attempt ?? randomBytes(3).toString("hex")}`);
  const taken = await access(first).then(
    () => true,
    () => false,
  );
  return taken ? `${first}-${randomBytes(3).toString("hex")}` : first;
}

async function revParse(git: GitRunner, repoDir: string, ref: string): Promise<string | undefined> {
  const out = await git.run(["-C", repoDir, "rev-parse", "-q", "--verify", `${ref}^{commit}`], {
    allowExit: [1],
  });
  return out.exitCode === 0 ? out.stdout.trim() : undefined;
}

async function mergeBase(git: GitRunner, repoDir: string, branch: string, baseTip: string): Promise<string> {
  const out = await git.run(["-C", repoDir, "merge-base", `refs/heads/${branch}`, baseTip], {
    allowExit: [1],
  });
  return out.exitCode === 0 ? out.stdout.trim() : baseTip;
}
