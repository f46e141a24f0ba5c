import { rm } from "node:fs/promises";
import { join } from "node:path";
import { DIFF_FLAGS, pinnedGit } from "./commit.ts";
import { createGitRunner, type GitRunner } from "./git.ts";
import type { PreparedWorkspace } from "./prepared.ts";
import { refuseUntrustedEntries } from "./worktree-files.ts";

/**
 * The worktree's uncommitted change against the base branch, as a unified diff: what the
 * acceptance review reads before GIMO commits anything.
 *
 * Same trust rules as the commit (commit.ts): git is pinned to GIMO's records, nothing in the
 * worktree decides which repository it uses, the walk refuses nested repositories and special
 * files first, external diff drivers and textconv are off. The real index is left alone: a
 * throwaway index in the worktree's own git dir (never shown to commands) starts from the commit
 * the worktree was checked out at, and new files are added to it as intent-to-add only — no
 * content is written to the object store. Output beyond `maxBytes` stops git and is cut with a note.
 */
export async function worktreeDiff(
  ws: PreparedWorkspace,
  maxBytes: number,
  opts: { git?: GitRunner; signal?: AbortSignal } = {},
): Promise<string> {
  const git = opts.git ?? createGitRunner();
  await refuseUntrustedEntries(ws.path);
  const index = join(ws.gitDir, "gimo-review-index");
  const pinned = pinnedGit(ws);
  const call = {
    ...pinned,
    env: { ...pinned.env, GIT_INDEX_FILE: index, GIT_LITERAL_PATHSPECS: "1" },
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  try {
    await git.run(["read-tree", ws.startSha], call);
    const untracked = (await git.run(["ls-files", "-z", "--others", "--exclude-standard"], call)).stdout
      .split("\0")
      .filter(Boolean);
    // In chunks, so a large tree never outgrows the argument list.
    for (let i = 0; i < untracked.length; i += 500) {
      await git.run(["add", "--intent-to-add", "--", ...untracked.slice(i, i + 500)], call);
    }
    const out = await git.run(["diff", ...DIFF_FLAGS, ws.baseSha], { ...call, maxOutputBytes: maxBytes });
    if (!out.truncated) return out.stdout;
    const cut = out.stdout.endsWith("\uFFFD") ? out.stdout.slice(0, -1) : out.stdout;
    return `${cut}\n… (diff cut at ${maxBytes} bytes)\n`;
  } finally {
    await rm(index, { force: true });
  }
}
