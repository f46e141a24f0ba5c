import { GimoError } from "../core/errors.ts";
import { createGitRunner, type GitRunner } from "../runner/workspace/git.ts";

/**
 * The change a run pushed, as a unified diff (`GET /ops/runs/{id}/diff`).
 *
 * It is read from the project's own repository: the runner's commit is made there (the run's
 * worktree shares its object store), between the `base_sha` and `head_sha` the run reported. Both
 * are checked to be full object names before git sees them (a runner-reported value is never an
 * option or a revision expression), and git runs hardened (no hooks, no external diff or textconv
 * driver, no configuration outside the repository). The answer is cut at `maxBytes` and says so.
 *
 * A run with nothing pushed, a project known only by URL (whose commits live in a runner's mirror,
 * not on this server), or a commit that is no longer in the repository answer 409 with the reason.
 */
export interface RunDiffSource {
  repoPath: string | null;
  baseSha: string | null | undefined;
  headSha: string | null | undefined;
}

export interface RunDiff {
  base_sha: string;
  head_sha: string;
  diff: string;
  truncated: boolean;
}

const OBJECT_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const FLAGS = ["-M", "--no-color", "--no-ext-diff", "--no-textconv", "--end-of-options"];

export async function readRunDiff(
  source: RunDiffSource,
  maxBytes: number,
  git: GitRunner = createGitRunner(),
): Promise<RunDiff> {
  const { repoPath, baseSha, headSha } = source;
  if (!baseSha || !headSha) throw new GimoError("conflict", "this run has no commit to show yet");
  if (!OBJECT_NAME.test(baseSha) || !OBJECT_NAME.test(headSha))
    throw new GimoError("conflict", "this run's reported commits are not object names");
  if (!repoPath)
    throw new GimoError(
      "conflict",
      "this project is known by URL: its commits are in the runner's mirror, not on this server — open the branch link",
    );
  const out = await git
    .run(["-C", repoPath, "diff", ...FLAGS, baseSha, headSha], {
      maxOutputBytes: maxBytes,
      timeoutMs: 30_000,
    })
    .catch(() => {
      throw new GimoError("conflict", "the run's commits are no longer in the project's repository");
    });
  let diff = out.stdout;
  if (out.truncated && diff.endsWith("\uFFFD")) diff = diff.slice(0, -1);
  return { base_sha: baseSha, head_sha: headSha, diff, truncated: out.truncated };
}
