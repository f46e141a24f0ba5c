import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestRepo, type TestRepo } from "../../../test/support/repo.ts";
import { GimoError } from "../../core/errors.ts";
import { createGitRunner, type GitRunner } from "./git.ts";
import {
  commitAll,
  fileChanges,
  prepareWorkspace,
  pushBranch,
  removeWorkspace,
  sweepStaleWorkspaces,
  type WorkspaceProject,
} from "./workspace.ts";

const run = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await run("git", args, { cwd })).stdout.trim();

let repo: TestRepo;
let root: string;

beforeEach(async () => {
  repo = await createTestRepo();
  root = mkdtempSync(join(tmpdir(), "gimo-runner-"));
});
afterEach(async () => {
  await repo.remove();
  rmSync(root, { recursive: true, force: true });
});

function project(over: Partial<WorkspaceProject & { push: boolean }> = {}) {
  return {
    repo_path: repo.path,
    repo_url: null,
    remote: "origin",
    base_branch: "main",
    protected_branches: ["main", "master", "dev", "development"],
    branch_prefix: "task/",
    push: true,
    forge: null,
    ...over,
  };
}

/** A second clone of the remote, to change it behind the runner's back. */
async function otherClone(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "gimo-other-"));
  await run("git", ["clone", "-q", repo.remotePath, dir]);
  await git(dir, "config", "user.name", "Other");
  await git(dir, "config", "user.email", "other@example.com");
  return dir;
}

describe("prepareWorkspace (repo_path)", () => {
  it("makes a worktree on task/<id> from the base, under root/worktrees", async () => {
    const main = await repo.git("rev-parse", "main");
    const ws = await prepareWorkspace(
      { runId: "r_1", taskId: "t_1", project: project(), attempt: 1 },
      { root },
    );
    expect(ws.path).toBe(join(root, "worktrees", "r_1-1"));
    expect(ws.branch).toBe("task/t_1");
    expect(ws.baseBranch).toBe("main");
    expect(ws.baseSha).toBe(main);
    expect(ws.reusedBranch).toBe(false);
    expect(ws.repoDir).toBe(repo.path);
    expect(ws.gitDir).toBe(join(repo.path, ".git", "worktrees", "r_1-1"));
    expect(ws.remote).toBe("origin");
    expect(ws.remoteUrl).toBe(repo.remotePath);
    expect(readFileSync(join(ws.path, "README.md"), "utf8")).toBe("# sample\n");
    expect(await git(ws.path, "symbolic-ref", "HEAD")).toBe("refs/heads/task/t_1");
    expect(await git(ws.path, "status", "--porcelain")).toBe("");
    // No upstream is configured for the task branch.
    await expect(git(ws.path, "rev-parse", "--abbrev-ref", "@{u}")).rejects.toThrow();
  });

  it("starts from the remote's current base tip, not a stale local one", async () => {
    const other = await otherClone();
    writeFileSync(join(other, "new.txt"), "from elsewhere\n");
    await git(other, "add", ".");
    await git(other, "commit", "-qm", "moved on");
    await git(other, "push", "-q", "origin", "main");
    const remoteTip = await git(other, "rev-parse", "HEAD");
    expect(await repo.git("rev-parse", "main")).not.toBe(remoteTip);

    const ws = await prepareWorkspace({ runId: "r_2", taskId: "t_2", project: project() }, { root });
    expect(ws.baseSha).toBe(remoteTip);
    expect(existsSync(join(ws.path, "new.txt"))).toBe(true);
    rmSync(other, { recursive: true, force: true });
  });

  it("works on a repository without the remote (local base)", async () => {
    await repo.git("remote", "remove", "origin");
    const ws = await prepareWorkspace({ runId: "r_3", taskId: "t_3", project: project() }, { root });
    expect(ws.remote).toBeNull();
    expect(ws.remoteUrl).toBeNull();
    expect(ws.baseSha).toBe(await repo.git("rev-parse", "main"));
    const pushed = await pushBranch(ws, { ...project(), push: false }, ws.startSha);
    expect(pushed).toEqual({ pushed: false, remoteUrl: "" });
  });

  it("fails clearly on an unknown base branch or a path that is no repository", async () => {
    await expect(
      prepareWorkspace({ runId: "r_4", taskId: "t_4", project: project({ base_branch: "nope" }) }, { root }),
    ).rejects.toThrow(/base branch nope not found/);
    await expect(
      prepareWorkspace({ runId: "r_4", taskId: "t_4", project: project({ repo_path: root }) }, { root }),
    ).rejects.toThrow(/is not a git repository/);
  });

  it("a retry reuses the branch and its commits, in a fresh worktree", async () => {
    const first = await prepareWorkspace(
      { runId: "r_5", taskId: "t_5", project: project(), attempt: 1 },
      { root },
    );
    writeFileSync(join(first.path, "a.txt"), "attempt one\n");
    const committed = await commitAll(first, "feat: a\n");
    await removeWorkspace(first);

    const again = await prepareWorkspace(
      { runId: "r_5", taskId: "t_5", project: project(), attempt: 2 },
      { root },
    );
    expect(again.path).not.toBe(first.path);
    expect(again.reusedBranch).toBe(true);
    expect(again.baseSha).toBe(first.baseSha);
    expect(await git(again.path, "rev-parse", "HEAD")).toBe(committed.headSha);
    expect(readFileSync(join(again.path, "a.txt"), "utf8")).toBe("attempt one\n");
    expect((await fileChanges(again)).map((c) => c.path)).toEqual(["a.txt"]);
  });

  it("a retry after a crash takes over the dead attempt's leftover worktree", async () => {
    const crashed = await prepareWorkspace(
      { runId: "r_6", taskId: "t_6", project: project(), attempt: 1 },
      { root },
    );
    // The attempt's process "died": its owner record names a pid that no longer exists.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.on("exit", resolve));
    const owner = JSON.parse(readFileSync(`${crashed.path}.owner.json`, "utf8"));
    writeFileSync(`${crashed.path}.owner.json`, JSON.stringify({ ...owner, pid: dead.pid }));

    const retry = await prepareWorkspace(
      { runId: "r_6", taskId: "t_6", project: project(), attempt: 2 },
      { root },
    );
    expect(retry.reusedBranch).toBe(true);
    expect(existsSync(crashed.path)).toBe(false);
    expect(await repo.git("worktree", "list")).not.toContain(crashed.path);
  });

  it("never checks out one task branch twice: a live run's branch is a conflict", async () => {
    await prepareWorkspace({ runId: "r_7", taskId: "t_7", project: project() }, { root });
    const second = prepareWorkspace({ runId: "r_8", taskId: "t_7", project: project() }, { root });
    await expect(second).rejects.toThrow(/task branch task\/t_7 is in use by r_7/);
    await expect(second).rejects.toBeInstanceOf(GimoError);
  });

  it("4 concurrent prepares on one repository get 4 distinct, complete worktrees", async () => {
    for (let i = 0; i < 50; i++) writeFileSync(join(repo.path, `f${i}.txt`), `file ${i}\n`);
    await repo.git("add", ".");
    await repo.git("commit", "-qm", "more files");
    await repo.git("push", "-q", "origin", "main");
    const all = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        prepareWorkspace({ runId: `r_c${i}`, taskId: `t_c${i}`, project: project() }, { root }),
      ),
    );
    expect(new Set(all.map((w) => w.path)).size).toBe(4);
    for (const ws of all) {
      expect(await git(ws.path, "status", "--porcelain")).toBe("");
      expect(readdirSync(ws.path).filter((f) => f.endsWith(".txt"))).toHaveLength(50);
    }
    const listed = await repo.git("worktree", "list", "--porcelain");
    for (const ws of all) expect(listed).toContain(`branch refs/heads/${ws.branch}`);
    // Same task four times at once: exactly one wins the branch.
    const same = await Promise.allSettled(
      [1, 2, 3, 4].map((i) =>
        prepareWorkspace({ runId: `r_s${i}`, taskId: "t_same", project: project() }, { root }),
      ),
    );
    expect(same.filter((s) => s.status === "fulfilled")).toHaveLength(1);
    expect(
      same.filter((s) => s.status === "rejected").map((s) => String((s as PromiseRejectedResult).reason)),
    ).toEqual(Array(3).fill(expect.stringMatching(/is in use by r_s\d/)));
  });

  it("4 runner PROCESSES preparing at once on one repository are serialised by the lock file", async () => {
    const module = join(import.meta.dirname, "workspace.ts");
    const child = (i: number) =>
      run(process.execPath, [
        "--input-type=module",
        "-e",
        `const { prepareWorkspace } = await import(${JSON.stringify(module)});
         const ws = await prepareWorkspace({ runId: "r_p${i}", taskId: "t_p${i}", project: JSON.parse(process.argv[1]) }, { root: process.argv[2] });
         console.log(JSON.stringify(ws));`,
        JSON.stringify(project()),
        root,
      ]);
    const outs = await Promise.all([1, 2, 3, 4].map(child));
    const paths = outs.map((o) => JSON.parse(o.stdout).path as string);
    expect(new Set(paths).size).toBe(4);
    for (const p of paths) expect(await git(p, "status", "--porcelain")).toBe("");
    expect(existsSync(join(repo.path, ".git", "gimo-worktrees.lock"))).toBe(false);
  });

  it("refuses, before any git command, a task branch that would be protected or the base", async () => {
    const calls: string[][] = [];
    const recording: GitRunner = {
      run: (args, call) => {
        calls.push(args);
        return createGitRunner().run(args, call);
      },
    };
    const open = project({ branch_prefix: "" });
    await expect(
      prepareWorkspace({ runId: "r_9", taskId: "main", project: open }, { root, git: recording }),
    ).rejects.toThrow("refusing to push to protected branch main");
    await expect(
      prepareWorkspace(
        { runId: "r_9", taskId: "release", project: { ...open, base_branch: "release" } },
        { root, git: recording },
      ),
    ).rejects.toThrow(/base branch release/);
    expect(calls).toEqual([]);
  });
});

describe("removeWorkspace", () => {
  it("removes the directory (even dirty and read-only), keeps the branch", async () => {
    const ws = await prepareWorkspace({ runId: "r_10", taskId: "t_10", project: project() }, { root });
    writeFileSync(join(ws.path, "scratch.txt"), "uncommitted\n");
    await run("mkdir", ["-p", join(ws.path, "ro/inner")]);
    await run("chmod", ["-R", "a-w", join(ws.path, "ro")]);
    await removeWorkspace(ws);
    expect(existsSync(ws.path)).toBe(false);
    expect(existsSync(`${ws.path}.owner.json`)).toBe(false);
    expect(await repo.git("worktree", "list")).not.toContain(ws.path);
    expect(await repo.git("branch", "--list", "task/t_10")).toContain("task/t_10");
  });
});

describe("sweepStaleWorkspaces", () => {
  it("removes the worktrees of dead runs and keeps the live ones", async () => {
    const live = await prepareWorkspace({ runId: "r_20", taskId: "t_20", project: project() }, { root });
    const dead = await prepareWorkspace({ runId: "r_21", taskId: "t_21", project: project() }, { root });
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => gone.on("exit", resolve));
    const owner = JSON.parse(readFileSync(`${dead.path}.owner.json`, "utf8"));
    writeFileSync(`${dead.path}.owner.json`, JSON.stringify({ ...owner, pid: gone.pid }));

    expect(await sweepStaleWorkspaces({ root })).toEqual([dead.path]);
    expect(existsSync(dead.path)).toBe(false);
    expect(existsSync(live.path)).toBe(true);
    expect(await repo.git("worktree", "list")).not.toContain(dead.path);
    expect(await repo.git("branch", "--list", "task/t_21")).toContain("task/t_21");
  });

  it("removeWorkspace still deletes the files when the repository itself is gone", async () => {
    const ws = await prepareWorkspace({ runId: "r_22", taskId: "t_22", project: project() }, { root });
    rmSync(repo.path, { recursive: true, force: true });
    await removeWorkspace(ws);
    expect(existsSync(ws.path)).toBe(false);
    expect(existsSync(repo.path)).toBe(false);
  });
});

describe("prepareWorkspace (repo_url, through the runner's mirror)", () => {
  it("an unreachable URL is a readable error and leaves no half-made mirror", async () => {
    const p = project({ repo_path: null, repo_url: `file://${root}/nowhere.git` });
    await expect(prepareWorkspace({ runId: "r_23", taskId: "t_23", project: p }, { root })).rejects.toThrow(
      /could not fetch origin \(file:\/\/.*nowhere.git\) to start from the current main: git fetch failed/,
    );
    expect(
      readdirSync(join(root, "mirrors")).filter((d) => d.endsWith(".git") || d.includes(".tmp-")),
    ).toEqual([]);
  });

  it("clones a mirror once, fetches after, and pushes from it", async () => {
    const url = `file://${repo.remotePath}`;
    const p = project({ repo_path: null, repo_url: url });
    const ws = await prepareWorkspace({ runId: "r_11", taskId: "t_11", project: p }, { root });
    const mirrors = readdirSync(join(root, "mirrors")).filter((d) => d.endsWith(".git"));
    expect(mirrors).toHaveLength(1);
    expect(ws.repoDir).toBe(join(root, "mirrors", mirrors[0] as string));
    expect(ws.remoteUrl).toBe(url);
    expect(ws.baseSha).toBe(await repo.git("rev-parse", "main"));

    writeFileSync(join(ws.path, "b.txt"), "from the mirror\n");
    const committed = await commitAll(ws, "feat: b\n");
    expect((await pushBranch(ws, p, committed.headSha)).pushed).toBe(true);
    expect(await git(repo.remotePath, "rev-parse", "refs/heads/task/t_11")).toBe(committed.headSha);
    await removeWorkspace(ws);

    // The remote moves on; the next run fetches it. The mirror's own task branch survives the prune.
    const other = await otherClone();
    writeFileSync(join(other, "c.txt"), "later\n");
    await git(other, "add", ".");
    await git(other, "commit", "-qm", "later");
    await git(other, "push", "-q", "origin", "main");
    await git(repo.remotePath, "branch", "-D", "task/t_11");
    const next = await prepareWorkspace({ runId: "r_12", taskId: "t_12", project: p }, { root });
    expect(next.repoDir).toBe(ws.repoDir);
    expect(next.baseSha).toBe(await git(other, "rev-parse", "HEAD"));
    expect(existsSync(join(next.path, "c.txt"))).toBe(true);
    expect(await git(ws.repoDir, "rev-parse", "refs/heads/task/t_11")).toBe(committed.headSha);
    expect(await git(ws.repoDir, "for-each-ref", "--format=%(refname)", "refs/heads/main")).toBe("");
    rmSync(other, { recursive: true, force: true });
  });

  it("a retry on another runner (another root) reuses the branch pushed by the first", async () => {
    const p = project({ repo_path: null, repo_url: `file://${repo.remotePath}` });
    const first = await prepareWorkspace({ runId: "r_13", taskId: "t_13", project: p }, { root });
    writeFileSync(join(first.path, "d.txt"), "one\n");
    const committed = await commitAll(first, "feat: d\n");
    await pushBranch(first, p, (await git(first.repoDir, "rev-parse", `refs/heads/${first.branch}`)).trim());

    const otherRoot = mkdtempSync(join(tmpdir(), "gimo-runner2-"));
    const retry = await prepareWorkspace(
      { runId: "r_13", taskId: "t_13", project: p, attempt: 2 },
      { root: otherRoot },
    );
    expect(retry.reusedBranch).toBe(true);
    expect(await git(retry.path, "rev-parse", "HEAD")).toBe(committed.headSha);
    expect(retry.baseSha).toBe(first.baseSha);
    rmSync(otherRoot, { recursive: true, force: true });
  });
});
