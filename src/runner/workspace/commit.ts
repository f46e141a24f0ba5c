import { join } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { createGitRunner, type GitCall, type GitRunner } from "./git.ts";
import type { PreparedWorkspace } from "./prepared.ts";
import { refuseUntrustedEntries, sizesOf } from "./worktree-files.ts";

/**
 * Committing a run's work and reading back what it changed (SPEC §4 steps 4–5).
 *
 * These run OUTSIDE the sandbox on a worktree a command has written, so they trust nothing in it
 * but the contents of its files:
 *  - git is given its repository from GIMO's records (`pinnedGit`): `GIT_DIR` is the worktree's own
 *    git dir and `GIT_COMMON_DIR` the repository's — neither ever shown to a command — and
 *    `GIT_WORK_TREE` the worktree; the worktree's `.git` is the agent's and is never read. Config,
 *    hooks and everything else that could run code are off for every call (git.ts);
 *  - before git reads the worktree at all, nested repositories, special files where git reads its
 *    settings and names that are not UTF-8 are refused (worktree-files.ts); a change larger than
 *    `maxCommitBytes` is refused before a single object is written (a first estimate from the
 *    files), and again — the check that counts — from the sizes of the blobs the new tree adds;
 *  - a change that contains a secret GIMO handed to the executor (an agent CLI's API key) is
 *    refused: it is never committed, let alone pushed;
 *  - every git call stops when the run's `signal` aborts (cancelled, out of its wall budget);
 *  - the commit is built from plumbing: `add -A` into GIMO's index, `write-tree`, `commit-tree`
 *    with exactly one parent — `startSha`, the commit the worktree was checked out at, whatever any
 *    file says (MERGE_HEAD, grafts and replace refs have no say) — and `update-ref` from `startSha`
 *    to the new commit, so a branch that moved meanwhile is a conflict, not an overwrite. A tree
 *    with a gitlink is refused.
 *
 * `commitAll`: one commit with the given message (whitespace cleaned, markdown `#` lines kept) under
 * the identity configured (`GIT_AUTHOR_*` / `GIT_COMMITTER_*`, read by config.ts) or `GIMO <gimo@localhost>`; nothing changed →
 * no commit, `nothingToCommit`. `fileChanges` and `diffText` compare `baseSha` with the task
 * branch's tip in the repository itself.
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

export const DIFF_FLAGS = ["-M", "--no-color", "--no-ext-diff", "--no-textconv"];
const GITLINK = "160000";

export interface CommitOptions {
  git?: GitRunner;
  /** The most the added and changed files may weigh together (the run's `max_commit_mb`). */
  maxCommitBytes?: number;
  /** Values that must not appear in the change (secrets handed to the executor). */
  secrets?: string[];
  signal?: AbortSignal;
  /** Who the commit is by (configuration: `GIT_AUTHOR_*` / `GIT_COMMITTER_*`); GIMO by default. */
  identity?: GitIdentity;
}

/** The author and committer of run commits. */
export interface GitIdentity {
  authorName: string;
  authorEmail: string;
  committerName: string;
  committerEmail: string;
}

export const DEFAULT_GIT_IDENTITY: GitIdentity = {
  authorName: "GIMO",
  authorEmail: "gimo@localhost",
  committerName: "GIMO",
  committerEmail: "gimo@localhost",
};

export async function commitAll(
  ws: PreparedWorkspace,
  message: string,
  opts: CommitOptions = {},
): Promise<CommitOutcome> {
  const git = opts.git ?? createGitRunner();
  const call = { ...pinnedGit(ws), ...(opts.signal ? { signal: opts.signal } : {}) };
  await refuseUntrustedEntries(ws.path);
  if (opts.maxCommitBytes !== undefined) await checkSize(git, ws, call, opts.maxCommitBytes);
  await git.run(["add", "-A"], call);
  const tree = (await git.run(["write-tree"], call)).stdout.trim();
  const startTree = (await git.run(["rev-parse", `${ws.startSha}^{tree}`], call)).stdout.trim();
  if (tree === startTree) return { commits: [], headSha: ws.startSha, nothingToCommit: true };
  await inspectChange(git, call, ws.startSha, tree, opts);
  const commit = (
    await git.run(["commit-tree", tree, "-p", ws.startSha, "-F", "-"], {
      ...call,
      env: { ...call.env, ...identityEnv(opts.identity ?? DEFAULT_GIT_IDENTITY) },
      input: cleanMessage(message),
    })
  ).stdout.trim();
  try {
    await git.run(
      ["update-ref", "-m", "gimo: run commit", `refs/heads/${ws.branch}`, commit, ws.startSha],
      call,
    );
  } catch (error) {
    throw new GimoError(
      "conflict",
      `${ws.branch} moved while the run worked (it is no longer at ${ws.startSha.slice(0, 12)}); nothing was committed: ${(error as Error).message}`,
    );
  }
  return { commits: [commit], headSha: commit };
}

/**
 * The git invocation for a worktree, entirely from GIMO's records: nothing in the worktree (its
 * `.git`, a pointer file, a config) decides which repository git uses.
 */
export function pinnedGit(ws: Pick<PreparedWorkspace, "gitDir" | "commonDir" | "path">): GitCall & {
  env: Record<string, string>;
} {
  return {
    cwd: "/",
    env: {
      GIT_DIR: ws.gitDir,
      GIT_COMMON_DIR: ws.commonDir,
      GIT_WORK_TREE: ws.path,
      GIT_INDEX_FILE: join(ws.gitDir, "index"),
      // The worktree changed owner when it was handed over: compare files by size and mtime only.
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "core.checkStat",
      GIT_CONFIG_VALUE_0: "minimal",
      GIT_CONFIG_KEY_1: "core.trustctime",
      GIT_CONFIG_VALUE_1: "false",
    },
  };
}

/**
 * A first estimate, before any object is written: the added and modified files' sizes on disk.
 * (Git's paths are decoded as UTF-8 here; names that are not were refused by the walk before.)
 */
async function checkSize(git: GitRunner, ws: PreparedWorkspace, call: GitCall, max: number): Promise<void> {
  const [untracked, modified] = await Promise.all([
    git.run(["ls-files", "-z", "--others", "--exclude-standard"], call),
    git.run(["diff-files", "-z", "--name-only", "--ignore-submodules=none"], call),
  ]);
  const paths = [...new Set([...nulSplit(untracked.stdout), ...nulSplit(modified.stdout)])];
  const sizes = await sizesOf(ws.path, paths);
  refuseOversized(max, [...sizes.entries()]);
}

/**
 * What the new tree adds to `from`, checked by git's own account: no gitlink, no more than
 * `maxCommitBytes` of new blobs, and none of `secrets` in a blob or a path.
 */
async function inspectChange(
  git: GitRunner,
  call: GitCall,
  from: string,
  tree: string,
  opts: CommitOptions,
): Promise<void> {
  const raw = await git.run(
    ["diff-tree", "-r", "-z", "--raw", "--no-renames", "--ignore-submodules=none", from, tree],
    call,
  );
  const fields = raw.stdout.split("\0");
  const links: string[] = [];
  const blobs = new Map<string, string>(); // sha → a path
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, newMode, , newSha] = (fields[i] as string).split(" ");
    const path = fields[i + 1] as string;
    if (newMode === GITLINK) links.push(path);
    else if (newSha && !/^0+$/.test(newSha)) blobs.set(newSha, path);
  }
  if (links.length > 0) {
    throw new GimoError(
      "forbidden",
      `the change adds a gitlink (nested repository) at ${links.slice(0, 5).join(", ")}; GIMO commits plain files only`,
      { gitlinks: links.slice(0, 50) },
    );
  }
  if (blobs.size === 0) return;
  const input = `${[...blobs.keys()].join("\n")}\n`;
  if (opts.maxCommitBytes !== undefined) {
    const sizes = await git.run(["cat-file", "--batch-check=%(objectname) %(objectsize)"], {
      ...call,
      input,
    });
    const bySha = sizes.stdout
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .map(([sha, size]): [string, number] => [blobs.get(sha ?? "") ?? "?", Number(size)]);
    refuseOversized(opts.maxCommitBytes, bySha);
  }
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 8);
  if (secrets.length === 0) return;
  const contents = await git.run(["cat-file", "--batch"], { ...call, input });
  const paths = [...blobs.values()].join("\n");
  if (secrets.some((secret) => contents.stdout.includes(secret) || paths.includes(secret))) {
    throw new GimoError(
      "forbidden",
      "the change contains a secret GIMO handed to the executor (its API key); refusing to commit it",
    );
  }
}

function refuseOversized(max: number, sizes: [string, number][]): void {
  const total = sizes.reduce((sum, [, n]) => sum + n, 0);
  if (total <= max) return;
  const largest = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 5);
  throw new GimoError(
    "payload_too_large",
    `the change weighs ${mb(total)}, more than the run's commit limit of ${mb(max)} (max_commit_mb); largest: ${largest.map(([p, n]) => `${p} (${mb(n)})`).join(", ")}`,
    { total_bytes: total, limit_bytes: max, largest: largest.map(([path, bytes]) => ({ path, bytes })) },
  );
}

/** Whitespace cleanup as `git commit --cleanup=whitespace` does it; `#` lines stay. */
function cleanMessage(message: string): string {
  const lines = message.split("\n").map((l) => l.trimEnd());
  const out: string[] = [];
  for (const line of lines) if (line !== "" || (out.length > 0 && out.at(-1) !== "")) out.push(line);
  while (out.at(-1) === "") out.pop();
  return `${out.join("\n")}\n`;
}

function nulSplit(text: string): string[] {
  return text.split("\0").filter(Boolean);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export async function fileChanges(
  ws: PreparedWorkspace,
  opts: { git?: GitRunner } = {},
): Promise<FileChangeRow[]> {
  const git = opts.git ?? createGitRunner();
  const range = [ws.baseSha, `refs/heads/${ws.branch}`];
  const diff = ["-C", ws.repoDir, "diff", "-z", ...DIFF_FLAGS];
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
    ["-C", ws.repoDir, "diff", ...DIFF_FLAGS, ws.baseSha, `refs/heads/${ws.branch}`],
    { maxOutputBytes: maxBytes },
  );
  if (!out.truncated) return out.stdout;
  const cut = out.stdout.endsWith("\uFFFD") ? out.stdout.slice(0, -1) : out.stdout;
  return `${cut}\n… (diff truncated at ${maxBytes} bytes)\n`;
}

function identityEnv(id: GitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: id.authorName,
    GIT_AUTHOR_EMAIL: id.authorEmail,
    GIT_COMMITTER_NAME: id.committerName,
    GIT_COMMITTER_EMAIL: id.committerEmail,
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
