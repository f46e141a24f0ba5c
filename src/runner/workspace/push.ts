import { GimoError } from "../../core/errors.ts";
import { assertPushable, type BranchRules } from "../../core/git-policy.ts";
import { credentialEnv, stripCredentials } from "./credentials.ts";
import { createGitRunner, type GitFailed, type GitRunner } from "./git.ts";
import type { PreparedWorkspace } from "./prepared.ts";

/**
 * Pushing a run's task branch (SPEC §4 step 4; refusals).
 *
 *  1. `assertPushable(branch, project)` first, before any git command: a protected branch, the base
 *     branch or a name outside `branch_prefix` is refused (`forbidden`) without git ever running.
 *  2. `push: false` → nothing is pushed (`pushed: false`).
 *  3. `git push --porcelain --no-verify --no-follow-tags <remote> refs/heads/<b>:refs/heads/<b>`
 *     from the repository (not the worktree the agent wrote in): one explicit refspec, the same name
 *     on both sides, never `--force` (a remote branch that moved on is a readable rejection, not an
 *     overwrite), never a tag, never another branch; hooks off (a pre-push hook would run the
 *     agent's code outside the sandbox). Nothing here merges.
 *  4. What counts as pushed is read back from the remote (`git ls-remote`), never from local state:
 *     the remote's branch must be exactly `headSha`, else the push failed (`unavailable`).
 *  5. A forge token for an https remote travels only in that git process's environment
 *     (`credentials.ts`) and is cut out of any error.
 */
export interface PushProject extends BranchRules {
  push: boolean;
  forge?: { kind: string } | null;
}

export interface PushOutcome {
  pushed: boolean;
  /** The remote's URL without credentials ("" when there is none). */
  remoteUrl: string;
}

const signalOf = (opts: { signal?: AbortSignal }) => (opts.signal ? { signal: opts.signal } : {});

export async function pushBranch(
  ws: PreparedWorkspace,
  project: PushProject,
  headSha: string,
  secrets: { token?: string } = {},
  opts: { git?: GitRunner; signal?: AbortSignal } = {},
): Promise<PushOutcome> {
  assertPushable(ws.branch, project);
  const remoteUrl = ws.remoteUrl ? stripCredentials(ws.remoteUrl) : "";
  if (!project.push) return { pushed: false, remoteUrl };
  if (!ws.remote) {
    throw new GimoError("unprocessable", `cannot push ${ws.branch}: ${ws.repoDir} has no remote to push to`);
  }
  const git = opts.git ?? createGitRunner();
  const creds = credentialEnv(ws.remoteUrl, secrets.token, project.forge?.kind ?? undefined);
  const ref = `refs/heads/${ws.branch}`;
  try {
    await git.run(
      [
        "-C",
        ws.repoDir,
        "-c",
        "core.hooksPath=/dev/null",
        "push",
        "--porcelain",
        "--no-verify",
        "--no-follow-tags",
        ws.remote,
        `${ref}:${ref}`,
      ],
      { env: creds.env, redact: creds.redact, timeoutMs: 10 * 60_000, ...signalOf(opts) },
    );
  } catch (error) {
    const why = (error as Error).message;
    const rejected = /\[rejected\]|non-fast-forward|fetch first/.test(
      `${why}\n${(error as GitFailed).stdout ?? ""}`,
    );
    throw new GimoError(
      rejected ? "conflict" : "unavailable",
      rejected
        ? `the remote's ${ws.branch} has commits this run does not have; GIMO never force-pushes (${why})`
        : `could not push ${ws.branch} to ${remoteUrl || ws.remote}: ${why}`,
    );
  }
  const listed = await git
    .run(["-C", ws.repoDir, "ls-remote", "--heads", ws.remote, ref], {
      env: creds.env,
      redact: creds.redact,
      timeoutMs: 2 * 60_000,
      ...signalOf(opts),
    })
    .catch((error: Error) => {
      throw new GimoError(
        "unavailable",
        `could not read ${ws.branch} back from ${remoteUrl}: ${error.message}`,
      );
    });
  const remoteSha = /^([0-9a-f]{40,64})\t/m.exec(listed.stdout)?.[1];
  if (remoteSha !== headSha) {
    throw new GimoError(
      "unavailable",
      `pushed ${ws.branch}, but the remote has ${remoteSha ? remoteSha.slice(0, 12) : "no such branch"} instead of ${headSha.slice(0, 12)}`,
      { expected: headSha, found: remoteSha ?? null },
    );
  }
  return { pushed: true, remoteUrl };
}
