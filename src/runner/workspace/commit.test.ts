import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestRepo, type TestRepo } from "../../../test/support/repo.ts";
import { loadConfig } from "../../config.ts";
import type { GimoError } from "../../core/errors.ts";
import { commitAll, diffText, fileChanges, type PreparedWorkspace, prepareWorkspace } from "./workspace.ts";

const run = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await run("git", args, { cwd })).stdout.trim();

let repo: TestRepo;
let root: string;
let ws: PreparedWorkspace;

beforeEach(async () => {
  repo = await createTestRepo();
  writeFileSync(join(repo.path, "keep.txt"), "one\ntwo\nthree\n");
  writeFileSync(join(repo.path, "gone.txt"), "bye\n");
  writeFileSync(
    join(repo.path, "move-me.txt"),
    "a file long enough to be recognised as renamed\nline 2\nline 3\n",
  );
  await repo.git("add", ".");
  await repo.git("commit", "-qm", "fixture");
  await repo.git("push", "-q", "origin", "main");
  root = mkdtempSync(join(tmpdir(), "gimo-runner-"));
  ws = await prepareWorkspace(
    {
      runId: "r_1",
      taskId: "t_1",
      project: {
        repo_path: repo.path,
        remote: "origin",
        base_branch: "main",
        protected_branches: ["main"],
        branch_prefix: "task/",
      },
    },
    { root },
  );
});
afterEach(async () => {
  await repo.remove();
  rmSync(root, { recursive: true, force: true });
});

const MESSAGE =
  "feat: things\n\n# A markdown heading survives\n\nGimo-Run: r_1\nGimo-Approved: a_1 sha256:00\n";

describe("commitAll", () => {
  it("commits every change once, on the task branch, with the message verbatim", async () => {
    writeFileSync(join(ws.path, "new.txt"), "hello\n");
    const result = await commitAll(ws, MESSAGE);
    expect(result.commits).toHaveLength(1);
    expect(result.headSha).toBe(result.commits[0]);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(result.headSha);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1^")).toBe(ws.baseSha);
    expect(await git(repo.path, "log", "-1", "--format=%B", "task/t_1")).toBe(MESSAGE.trim());
    expect(await git(repo.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "task/t_1")).toBe(
      "GIMO <gimo@localhost>|GIMO <gimo@localhost>",
    );
    expect(await git(repo.path, "rev-list", "--parents", "-n", "1", "task/t_1")).toBe(
      `${result.headSha} ${ws.baseSha}`,
    );
    expect(await git(repo.path, "rev-parse", "main")).toBe(ws.baseSha);
  });

  it("with nothing changed makes no commit", async () => {
    expect(await commitAll(ws, MESSAGE)).toEqual({ commits: [], headSha: ws.baseSha, nothingToCommit: true });
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(ws.baseSha);
  });

  it("leaves ignored files out", async () => {
    writeFileSync(join(ws.path, ".gitignore"), "node_modules/\n");
    mkdirSync(join(ws.path, "node_modules"));
    writeFileSync(join(ws.path, "node_modules", "dep.js"), "x\n");
    await commitAll(ws, MESSAGE);
    expect(await git(repo.path, "ls-tree", "-r", "--name-only", "task/t_1")).not.toContain("node_modules");
  });

  it("commits as the configured identity (GIT_AUTHOR_* / GIT_COMMITTER_*, read by config.ts)", async () => {
    const vars = { GIT_AUTHOR_NAME: "Bot", GIT_AUTHOR_EMAIL: "bot@corp", GIT_COMMITTER_NAME: "Ci" };
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    await commitAll(ws, MESSAGE, { identity: loadConfig(vars).gitIdentity });
    expect(await git(repo.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "task/t_1")).toBe(
      "Bot <bot@corp>|Ci <bot@corp>",
    );
  });

  it("commits as GIMO <gimo@localhost> when no identity is configured, whatever the process environment says", async () => {
    process.env.GIT_AUTHOR_NAME = "Ambient";
    try {
      writeFileSync(join(ws.path, "x.txt"), "x\n");
      await commitAll(ws, MESSAGE);
    } finally {
      delete process.env.GIT_AUTHOR_NAME;
    }
    expect(await git(repo.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "task/t_1")).toBe(
      "GIMO <gimo@localhost>|GIMO <gimo@localhost>",
    );
  });

  it("runs no hook (a hook would run the agent's code outside the sandbox)", async () => {
    const marker = join(root, "hook-ran");
    const hook = join(repo.path, ".git", "hooks", "pre-commit");
    writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\nexit 1\n`);
    chmodSync(hook, 0o755);
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    expect((await commitAll(ws, MESSAGE)).commits).toHaveLength(1);
    expect(existsSync(marker)).toBe(false);
  });

  it("runs no fsmonitor, even one the repository's config names", async () => {
    const marker = join(root, "fsmonitor-ran");
    await repo.git("config", "core.fsmonitor", `touch ${marker}; false`);
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    expect((await commitAll(ws, MESSAGE)).commits).toHaveLength(1);
    expect(existsSync(marker)).toBe(false);
  });

  it("never reads the worktree's .git: the agent's repository, a decoy, a pointer elsewhere", async () => {
    const decoy = join(root, "decoy");
    await run("git", ["init", "-q", decoy]);
    rmSync(join(ws.path, ".git"), { recursive: true, force: true });
    writeFileSync(join(ws.path, ".git"), `gitdir: ${join(decoy, ".git")}\n`);
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    const result = await commitAll(ws, MESSAGE);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(result.headSha);
    expect(await git(repo.path, "ls-tree", "-r", "--name-only", "task/t_1")).not.toMatch(/^\.git$/m);
    await expect(git(decoy, "rev-parse", "HEAD")).rejects.toThrow();
  });

  it("makes exactly one parent, the checked-out commit, whatever MERGE_HEAD, HEAD or grafts say", async () => {
    const other = await git(repo.path, "commit-tree", "-m", "elsewhere", `${ws.baseSha}^{tree}`);
    for (const dir of [ws.gitDir, join(ws.path, ".git")]) {
      writeFileSync(join(dir, "MERGE_HEAD"), `${other}\n`);
      writeFileSync(join(dir, "CHERRY_PICK_HEAD"), `${other}\n`);
    }
    writeFileSync(join(ws.gitDir, "HEAD"), "ref: refs/heads/main\n");
    mkdirSync(join(repo.path, ".git", "info"), { recursive: true });
    writeFileSync(join(repo.path, ".git", "info", "grafts"), `${ws.baseSha} ${other}\n`);
    await git(repo.path, "replace", ws.baseSha, other);
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    const result = await commitAll(ws, MESSAGE);
    const parents = await run("git", ["-C", repo.path, "cat-file", "-p", result.headSha]);
    expect(parents.stdout.match(/^parent .*/gm)).toEqual([`parent ${ws.baseSha}`]);
    expect(await git(repo.path, "rev-parse", "main")).toBe(ws.baseSha);
  });

  it("is a conflict, not an overwrite, when the branch moved while the run worked", async () => {
    const moved = await git(
      repo.path,
      "commit-tree",
      "-p",
      ws.baseSha,
      "-m",
      "moved",
      `${ws.baseSha}^{tree}`,
    );
    await git(repo.path, "update-ref", "refs/heads/task/t_1", moved);
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    await expect(commitAll(ws, MESSAGE)).rejects.toThrow(/moved while the run worked/);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(moved);
  });

  it("refuses a nested repository, and never runs the filter it configures", async () => {
    const marker = join(root, "filter-ran");
    const sub = join(ws.path, "sub");
    await run("git", ["init", "-q", sub]);
    await run("git", ["-C", sub, "config", "filter.x.clean", `touch ${marker}; cat`]);
    writeFileSync(join(sub, ".gitattributes"), "* filter=x\n");
    writeFileSync(join(sub, "f.txt"), "inner\n");
    writeFileSync(join(ws.path, ".gitattributes"), "* filter=x\n");
    const error = await commitAll(ws, MESSAGE).catch((e: GimoError) => e);
    expect(error).toMatchObject({ code: "forbidden" });
    expect((error as Error).message).toMatch(/nested git repository \(sub\/\.git\)/);
    expect(existsSync(marker)).toBe(false);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(ws.baseSha);
  });

  it("stops at once when the run's signal has aborted: nothing committed", async () => {
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    const stopped = new AbortController();
    stopped.abort(new Error("cancelled"));
    await expect(commitAll(ws, MESSAGE, { signal: stopped.signal })).rejects.toThrow(/was stopped/);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(ws.baseSha);
  });

  it("refuses a change that contains a secret handed to the executor, in a file or a name", async () => {
    const key = "sk-ant-handed-to-the-cli-0123456789";
    writeFileSync(join(ws.path, "leak.txt"), `token=${key}\n`);
    await expect(commitAll(ws, MESSAGE, { secrets: [key] })).rejects.toThrow(/contains a secret/);
    rmSync(join(ws.path, "leak.txt"));
    writeFileSync(join(ws.path, `${key}.txt`), "x\n");
    await expect(commitAll(ws, MESSAGE, { secrets: [key] })).rejects.toThrow(/contains a secret/);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(ws.baseSha);
  });

  it("refuses a FIFO where git reads its settings, without blocking", async () => {
    await run("mkfifo", [join(ws.path, ".gitignore")]);
    await expect(commitAll(ws, MESSAGE)).rejects.toThrow(/special files where git reads its own settings/);
  });

  it("refuses a change over the commit limit before writing a single object", async () => {
    const objects = async () =>
      (await git(repo.path, "count-objects", "-v")).match(/^(count|in-pack): \d+/gm);
    const before = await objects();
    writeFileSync(join(ws.path, "big.bin"), Buffer.alloc(3 * 1024 * 1024, 7));
    writeFileSync(join(ws.path, "small.txt"), "small\n");
    const error = await commitAll(ws, MESSAGE, { maxCommitBytes: 2 * 1024 * 1024 }).catch(
      (e: GimoError) => e,
    );
    expect(error).toMatchObject({ code: "payload_too_large" });
    expect((error as Error).message).toMatch(/big\.bin \(3\.0 MB\)/);
    expect(await objects()).toEqual(before);
    expect((await commitAll(ws, MESSAGE, { maxCommitBytes: 4 * 1024 * 1024 })).commits).toHaveLength(1);
  });
});

describe("fileChanges and diffText", () => {
  it("report added, modified, deleted, renamed and binary files between base and the branch", async () => {
    writeFileSync(join(ws.path, "keep.txt"), "one\n2\nthree\nfour\n");
    unlinkSync(join(ws.path, "gone.txt"));
    await run("git", ["mv", "move-me.txt", "moved.txt"], { cwd: ws.path });
    writeFileSync(join(ws.path, "added file.txt"), "a\nb\n");
    writeFileSync(join(ws.path, "blob.bin"), Buffer.from([0, 1, 2, 0, 255, 0]));
    await commitAll(ws, MESSAGE);
    const changes = await fileChanges(ws);
    expect(changes.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: "added file.txt", status: "added", insertions: 2, deletions: 0 },
      { path: "blob.bin", status: "added", insertions: 0, deletions: 0 },
      { path: "gone.txt", status: "deleted", insertions: 0, deletions: 1 },
      { path: "keep.txt", status: "modified", insertions: 2, deletions: 1 },
      { path: "moved.txt", status: "renamed", insertions: 0, deletions: 0, old_path: "move-me.txt" },
    ]);
  });

  it("are empty before anything is committed", async () => {
    writeFileSync(join(ws.path, "x.txt"), "uncommitted\n");
    expect(await fileChanges(ws)).toEqual([]);
    expect(await diffText(ws, 10_000)).toBe("");
  });

  it("diffText shows the diff, cut at maxBytes", async () => {
    writeFileSync(join(ws.path, "big.txt"), "line\n".repeat(5_000));
    await commitAll(ws, MESSAGE);
    const full = await diffText(ws, 1_000_000);
    expect(full).toContain("+++ b/big.txt");
    expect(full.length).toBeGreaterThan(20_000);
    const cut = await diffText(ws, 2_000);
    expect(cut.startsWith(full.slice(0, 1_500))).toBe(true);
    expect(cut).toMatch(/… \(diff truncated at 2000 bytes\)\n$/);
    expect(Buffer.byteLength(cut)).toBeLessThan(2_100);
  });
});
