import { access, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { createGitRunner, type GitRunner } from "./git.ts";
import type { PreparedWorkspace } from "./workspace.ts";

/**
 * Committing a run's work and reading back what it changed (SPEC §4 steps 4–5).
 *
 * These run OUTSIDE the sandbox, on a worktree an agent has just had write access to, so git is
 * pointed at the repository explicitly and never by what the worktree says: `GIT_DIR` (the
 * worktree's own git dir), `GIT_COMMON_DIR` (the repository's) and `GIT_WORK_TREE` are set, so a
 * rewritten `.git` file or `commondir` cannot aim git at a config the agent wrote; hooks are off
 * (`core.hooksPath=/dev/null`, `--no-verify`: a hook would run the agent's code unsandboxed), as are
 * fsmonitor and signing. A `config.worktree` in the worktree's git dir (which the sandbox can write,
 * and which git reads when the repository enables `extensions.worktreeConfig`) is refused, and so is
 * a HEAD moved off the task branch — GIMO commits to the task branch or not at all.
 *
 * `commitAll`: `git add -A` (ignored files stay out), one commit with the given message (cleanup
 * `whitespace`, so markdown `#` lines survive) under the identity from `GIT_AUTHOR_*` /
 * `GIT_COMMITTER_*` or `GIMO <gimo@localhost>`; nothing staged → no commit, `nothingToCommit`.
 * `fileChanges` and `diffText` compare `baseSha` with the task branch's tip in the repository itself.
 */
export type CommitOutcome =
  | { commits: string[]; headSha: string; nothingToCommit?: false }
  | { commits: []; headSha: string; nothingToCommit: true };

export interface FileChangeRow {
  path: string;
  status: "added" | "modified" | "deleted" | "renamed" | "copied" | "type_changed" | "unmerged" | "unknown";
  insertions: number;
  deletions: number;
  /** The path before a rename or copy. */
  old_path?: string;
}

const HARDENED = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "commit.gpgSign=false",
];
const DIFF_FLAGS = ["-M", "--no-color", "--no-ext-diff", "--no-textconv"];

export async function commitAll(
  ws: PreparedWorkspace,
  message: string,
  opts: { git?: GitRunner } = {},
): Promise<CommitOutcome> {
  const git = opts.git ?? createGitRunner();
  const call = await pinned(ws);
  await git.run([...HARDENED, "add", "-A"], call);
  const staged = await git.run([...HARDENED, "diff", "--cached", "--quiet", "--no-ext-diff"], {
    ...call,
    allowExit: [1],
  });
  if (staged.exitCode === 0) {
    return { commits: [], headSha: await head(git, call), nothingToCommit: true };
  }
  await git.run([...HARDENED, "commit", "-q", "--no-verify", "--cleanup=whitespace", "-F", "-"], {
    ...call,
    env: { ...call.env, ...identity() },
    input: message,
  });
  const sha = await head(git, call);
  return { commits: [sha], headSha: sha };
}

export async function fileChanges(
  ws: PreparedWorkspace,
  opts: { git?: GitRunner } = {},
): Promise<FileChangeRow[]> {
  const git = opts.git ?? createGitRunner();
  const range = [ws.baseSha, `refs/heads/${ws.branch}`];
  const diff = ["-C", ws.repoDir, ...HARDENED, "diff", "-z", ...DIFF_FLAGS];
  const [numstat, names] = await Promise.all([
    git.run([...diff, "--numstat", ...range]),
    git.run([...diff, "--name-status", ...range]),
  ]);
  const counts = parseNumstat(numstat.stdout);
  return parseNameStatus(names.stdout).map((row) => {
    const n = counts.get(row.path);
    return { ...row, insertions: n?.[0] ?? 0, deletions: n?.[1] ?? 0 };
  });
}

/** The unified diff of the task branch against its base, cut at `maxBytes` with a note. */
export async function diffText(
  ws: PreparedWorkspace,
  maxBytes: number,
  opts: { git?: GitRunner } = {},
): Promise<string> {
  const git = opts.git ?? createGitRunner();
  const out = await git.run(
    ["-C", ws.repoDir, ...HARDENED, "diff", ...DIFF_FLAGS, ws.baseSha, `refs/heads/${ws.branch}`],
    { maxOutputBytes: maxBytes },
  );
  if (!out.truncated) return out.stdout;
  const cut = out.stdout.endsWith("\uFFFD") ? out.stdout.slice(0, -1) : out.stdout;
  return `${cut}\n… (diff truncated at ${maxBytes} bytes)\n`;
}

/** The git invocation for a worktree, pinned to its repository, after checking nothing was redirected. */
async function pinned(ws: PreparedWorkspace): Promise<{ cwd: string; env: Record<string, string> }> {
  if (basename(dirname(ws.gitDir)) !== "worktrees") {
    throw new GimoError("internal", `${ws.gitDir} is not the git dir of a linked worktree`);
  }
  const commonDir = dirname(dirname(ws.gitDir));
  const headRef = (await readFile(join(ws.gitDir, "HEAD"), "utf8")).trim();
  if (headRef !== `ref: refs/heads/${ws.branch}`) {
    throw new GimoError(
      "forbidden",
      `the worktree's HEAD left ${ws.branch} (${headRef}); refusing to commit anywhere else`,
    );
  }
  if (await exists(join(ws.gitDir, "config.worktree"))) {
    throw new GimoError(
      "forbidden",
      "the worktree's git config was changed during the run (config.worktree); refusing to use it",
    );
  }
  return { cwd: ws.path, env: { GIT_DIR: ws.gitDir, GIT_COMMON_DIR: commonDir, GIT_WORK_TREE: ws.path } };
}

async function head(git: GitRunner, call: { cwd: string; env: Record<string, string> }): Promise<string> {
  return (await git.run(["rev-parse", "HEAD"], call)).stdout.trim();
}

function identity(): Record<string, string> {
  const name = process.env.GIT_AUTHOR_NAME || "GIMO";
  const email = process.env.GIT_AUTHOR_EMAIL || "gimo@localhost";
  return {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME || name,
    GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL || email,
  };
}

const STATUS: Record<string, FileChangeRow["status"]> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type_changed",
  U: "unmerged",
};

/** `--name-status -z`: `M\0path\0`, `R086\0old\0new\0`. */
function parseNameStatus(
  text: string,
): { path: string; status: FileChangeRow["status"]; old_path?: string }[] {
  const fields = text.split("\0");
  const rows: { path: string; status: FileChangeRow["status"]; old_path?: string }[] = [];
  for (let i = 0; i < fields.length - 1; ) {
    const code = fields[i++] as string;
    const status = STATUS[code[0] ?? ""] ?? "unknown";
    if (status === "renamed" || status === "copied") {
      const old = fields[i++] as string;
      rows.push({ path: fields[i++] as string, status, old_path: old });
    } else rows.push({ path: fields[i++] as string, status });
  }
  return rows;
}

/** `--numstat -z`: `ins\tdel\tpath\0`, or `ins\tdel\t\0old\0new\0` for a rename; binary is `-\t-`. */
function parseNumstat(text: string): Map<string, [number, number]> {
  const fields = text.split("\0");
  const counts = new Map<string, [number, number]>();
  for (let i = 0; i < fields.length - 1; ) {
    const [ins = "-", del = "-", path = ""] = (fields[i++] as string).split("\t");
    let target = path;
    if (path === "") {
      i++; // the old path of a rename
      target = fields[i++] as string;
    }
    counts.set(target, [ins === "-" ? 0 : Number(ins), del === "-" ? 0 : Number(del)]);
  }
  return counts;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
