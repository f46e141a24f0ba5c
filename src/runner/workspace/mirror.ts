import { createHash, randomBytes } from "node:crypto";
import { access, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CredentialEnv } from "./credentials.ts";
import type { GitRunner } from "./git.ts";

/**
 * The runner's own copy of a project given by `repo_url`: one bare repository per URL under
 * `<root>/mirrors/<sha256(url)[0..16]>.git`, made once and fetched (`--prune`) before every run,
 * from which the runs' worktrees are made — so a runner on any machine works the same as one next
 * to the repository.
 *
 * It is a mirror of the remote's branches, not a `git clone --mirror`: a true mirror fetches
 * `+refs/*:refs/*`, and its `fetch --prune` would overwrite or delete the task branches that runs
 * create in it (a worktree's branch deleted under a running agent, a commit not yet pushed lost).
 * Here the remote's branches land in `refs/remotes/origin/*` and `refs/heads/*` belong to the runs,
 * so fetching never touches a branch a worktree has checked out. Tags are not fetched.
 *
 * Creation goes to a temporary directory renamed into place, so a crash mid-clone leaves no
 * half-made mirror behind. The caller holds the repository lock (`lockFile`) around all of this.
 */
export const FETCH_TIMEOUT_MS = 30 * 60_000;

export interface MirrorPaths {
  dir: string;
  lockFile: string;
}

export function mirrorPaths(root: string, url: string): MirrorPaths {
  const key = createHash("sha256").update(url.trim()).digest("hex").slice(0, 16);
  return { dir: join(root, "mirrors", `${key}.git`), lockFile: join(root, "mirrors", `${key}.lock`) };
}

/** Makes the mirror if it does not exist yet, else fetches; either way it is current afterwards. */
export async function syncMirror(
  git: GitRunner,
  paths: MirrorPaths,
  url: string,
  creds: CredentialEnv,
): Promise<void> {
  const exists = await access(join(paths.dir, "HEAD")).then(
    () => true,
    () => false,
  );
  if (exists) {
    await fetchBranches(git, paths.dir, "origin", creds);
    return;
  }
  const tmp = `${paths.dir}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    await git.run(["init", "-q", "--bare", tmp]);
    await git.run(["-C", tmp, "config", "remote.origin.url", url]);
    await git.run(["-C", tmp, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"]);
    await git.run(["-C", tmp, "config", "remote.origin.tagOpt", "--no-tags"]);
    await fetchBranches(git, tmp, "origin", creds);
    await rm(paths.dir, { recursive: true, force: true });
    await rename(tmp, paths.dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** `git fetch --prune` of every branch of `remote` into `refs/remotes/<remote>/*`, nothing else. */
export async function fetchBranches(
  git: GitRunner,
  repoDir: string,
  remote: string,
  creds: CredentialEnv,
): Promise<void> {
  await git.run(
    ["-C", repoDir, "fetch", "-q", "--prune", "--no-tags", remote, `+refs/heads/*:refs/remotes/${remote}/*`],
    { env: creds.env, redact: creds.redact, timeoutMs: FETCH_TIMEOUT_MS },
  );
}
