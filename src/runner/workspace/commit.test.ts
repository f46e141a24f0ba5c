import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestRepo, type TestRepo } from "../../../test/support/repo.ts";
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
    expect(await git(ws.path, "status", "--porcelain")).toBe("");
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

  it("uses GIT_AUTHOR_* / GIT_COMMITTER_* from the environment when set", async () => {
    const vars = { GIT_AUTHOR_NAME: "Bot", GIT_AUTHOR_EMAIL: "bot@corp", GIT_COMMITTER_NAME: "Ci" };
    Object.assign(process.env, vars);
    try {
      writeFileSync(join(ws.path, "x.txt"), "x\n");
      await commitAll(ws, MESSAGE);
    } finally {
      for (const key of Object.keys(vars)) delete process.env[key];
    }
    expect(await git(repo.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "task/t_1")).toBe(
      "Bot <bot@corp>|Ci <bot@corp>",
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

  it("is not redirected by a rewritten .git file in the worktree", async () => {
    const decoy = join(root, "decoy");
    await run("git", ["init", "-q", decoy]);
    writeFileSync(join(ws.path, ".git"), `gitdir: ${join(decoy, ".git")}\n`);
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    const result = await commitAll(ws, MESSAGE);
    expect(await git(repo.path, "rev-parse", "refs/heads/task/t_1")).toBe(result.headSha);
    expect(await git(repo.path, "ls-tree", "-r", "--name-only", "task/t_1")).not.toMatch(/^\.git$/m);
    await expect(git(decoy, "rev-parse", "HEAD")).rejects.toThrow();
  });

  it("refuses when HEAD was moved off the task branch, and main stays put", async () => {
    writeFileSync(join(ws.gitDir, "HEAD"), "ref: refs/heads/main\n");
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    await expect(commitAll(ws, MESSAGE)).rejects.toThrow(/HEAD left task\/t_1/);
    expect(await git(repo.path, "rev-parse", "main")).toBe(ws.baseSha);
  });

  it("refuses a config.worktree planted in the worktree's git dir", async () => {
    writeFileSync(join(ws.gitDir, "config.worktree"), "[core]\n\tfsmonitor = touch /tmp/pwned\n");
    await expect(commitAll(ws, MESSAGE)).rejects.toThrow(/config.worktree/);
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
