import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestRepo, type TestRepo } from "../../../test/support/repo.ts";
import { conventionalMessage } from "../../core/commit-message.ts";
import { createGitRunner, type GitRunner } from "./git.ts";
import { commitAll, type PreparedWorkspace, prepareWorkspace, pushBranch } from "./workspace.ts";

const run = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await run("git", args, { cwd })).stdout.trim();

let repo: TestRepo;
let root: string;
let pushLog: string;

/** A pre-receive hook in the bare remote that records every ref update it is asked for. */
function recordPushes(remotePath: string): string {
  const log = join(root, "pushes.log");
  const hook = join(remotePath, "hooks", "pre-receive");
  writeFileSync(hook, `#!/bin/sh\ncat >> ${log}\n`);
  chmodSync(hook, 0o755);
  return log;
}
const pushes = () =>
  existsSync(pushLog) ? readFileSync(pushLog, "utf8").trim().split("\n").filter(Boolean) : [];

beforeEach(async () => {
  repo = await createTestRepo();
  root = mkdtempSync(join(tmpdir(), "gimo-runner-"));
  pushLog = recordPushes(repo.remotePath);
});
afterEach(async () => {
  await repo.remove();
  rmSync(root, { recursive: true, force: true });
});

function project(over: Record<string, unknown> = {}) {
  return {
    repo_path: repo.path,
    remote: "origin",
    base_branch: "main",
    protected_branches: ["main", "master", "dev", "development"],
    branch_prefix: "task/",
    push: true,
    forge: null,
    ...over,
  };
}

const TRAILERS = { run: "r_01RUN", approved: "a_01APP", hash: "sha256:feed" };

describe("prepare → edit → commit → push", () => {
  it("pushes task/<id> with one commit carrying both trailers; the remote's main is untouched", async () => {
    const mainBefore = await git(repo.remotePath, "rev-parse", "main");
    const ws = await prepareWorkspace({ runId: "r_01RUN", taskId: "t_1", project: project() }, { root });
    writeFileSync(join(ws.path, "feature.txt"), "done\n");
    const message = conventionalMessage(
      { title: "Add the feature", summary: "Adds it.", risk: "low" },
      TRAILERS,
    );
    const committed = await commitAll(ws, message);
    const outcome = await pushBranch(ws, project(), committed.headSha);

    expect(outcome).toEqual({ pushed: true, remoteUrl: repo.remotePath });
    expect(await git(repo.remotePath, "rev-parse", "task/t_1")).toBe(committed.headSha);
    expect(await git(repo.remotePath, "rev-list", "--count", "main..task/t_1")).toBe("1");
    const body = await git(repo.remotePath, "log", "-1", "--format=%B", "task/t_1");
    expect(body).toContain("Gimo-Run: r_01RUN");
    expect(body).toContain("Gimo-Approved: a_01APP sha256:feed");
    expect(await git(repo.remotePath, "rev-parse", "main")).toBe(mainBefore);
    expect(pushes()).toEqual([expect.stringMatching(/^0{40} [0-9a-f]{40} refs\/heads\/task\/t_1$/)]);
    expect(await git(repo.remotePath, "tag")).toBe("");
  });

  it("push: false pushes nothing", async () => {
    const ws = await prepareWorkspace({ runId: "r_2", taskId: "t_2", project: project() }, { root });
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    const committed = await commitAll(ws, "feat: x\n");
    expect(await pushBranch(ws, project({ push: false }), committed.headSha)).toEqual({
      pushed: false,
      remoteUrl: repo.remotePath,
    });
    expect(pushes()).toEqual([]);
  });

  it("never force-pushes: a remote task branch that moved on is a readable conflict", async () => {
    const ws = await prepareWorkspace({ runId: "r_3", taskId: "t_3", project: project() }, { root });
    // Someone else pushes task/t_3 first, from another history.
    const other = mkdtempSync(join(tmpdir(), "gimo-other-"));
    await run("git", ["clone", "-q", repo.remotePath, other]);
    writeFileSync(join(other, "theirs.txt"), "theirs\n");
    await git(other, "add", ".");
    await git(other, "-c", "user.name=o", "-c", "user.email=o@o", "commit", "-qm", "theirs");
    await git(other, "push", "-q", "origin", "HEAD:refs/heads/task/t_3");
    const theirs = await git(other, "rev-parse", "HEAD");

    writeFileSync(join(ws.path, "mine.txt"), "mine\n");
    const mine = await commitAll(ws, "feat: mine\n");
    await expect(pushBranch(ws, project(), mine.headSha)).rejects.toThrow(/never force-pushes/);
    expect(await git(repo.remotePath, "rev-parse", "task/t_3")).toBe(theirs);
    rmSync(other, { recursive: true, force: true });
  });
});

describe("what counts as pushed", () => {
  it("is read back from the remote: a push the remote did not keep is an error, never pushed: true", async () => {
    const ws = await prepareWorkspace({ runId: "r_6", taskId: "t_6", project: project() }, { root });
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    const committed = await commitAll(ws, "feat: x\n");
    // A remote whose hook accepts the push and then moves the branch elsewhere.
    const hook = join(repo.remotePath, "hooks", "post-receive");
    const main = await git(repo.remotePath, "rev-parse", "main");
    writeFileSync(hook, `#!/bin/sh\ngit update-ref refs/heads/task/t_6 ${main}\n`, { mode: 0o755 });
    try {
      await expect(pushBranch(ws, project(), committed.headSha)).rejects.toThrow(
        /the remote has [0-9a-f]{12} instead of/,
      );
    } finally {
      rmSync(hook, { force: true });
    }
  });
});

describe("refusals", () => {
  it("a protected base branch never receives a push: refused before any git call", async () => {
    const mainBefore = await git(repo.remotePath, "rev-parse", "main");
    const real = await prepareWorkspace({ runId: "r_4", taskId: "t_4", project: project() }, { root });
    writeFileSync(join(real.path, "x.txt"), "x\n");
    const committed = await commitAll(real, "feat: x\n");
    // Whatever a workspace claims, pushing main (the protected base), another protected branch,
    // the base, or a branch outside the prefix never runs git.
    const calls: string[][] = [];
    const recording: GitRunner = {
      run: (args, call) => {
        calls.push(args);
        return createGitRunner().run(args, call);
      },
    };
    const cases: [PreparedWorkspace, ReturnType<typeof project>, RegExp][] = [
      [{ ...real, branch: "main" }, project(), /refusing to push to protected branch main/],
      [{ ...real, branch: "master" }, project(), /protected branch master/],
      [{ ...real, branch: "release" }, project({ base_branch: "release" }), /base branch release/],
      [{ ...real, branch: "feature/x" }, project(), /only task branches under "task\/"/],
      [{ ...real, branch: "task/x:main" }, project(), /character git forbids/],
    ];
    for (const [ws, p, message] of cases) {
      await expect(pushBranch(ws, p, committed.headSha, {}, { git: recording })).rejects.toThrow(message);
    }
    expect(calls).toEqual([]);
    expect(pushes()).toEqual([]);
    expect(await git(repo.remotePath, "rev-parse", "main")).toBe(mainBefore);
  });
});

describe("https remote with a forge token", () => {
  let server: Server;
  let seen: { method: string; url: string; authorization: string | undefined }[];
  const TOKEN = "ghp_s3cretTOKENvalue";
  const expected = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`;

  beforeEach(async () => {
    seen = [];
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
        return;
      }
      httpBackend(req, res, join(repo.remotePath, ".."));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fetches and pushes with the token in the environment only, never in a URL, config or error", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/remote.git`;
    const p = project({ repo_path: null, repo_url: url, forge: { kind: "github" } });

    await expect(prepareWorkspace({ runId: "r_5", taskId: "t_5", project: p }, { root })).rejects.toThrow(
      /401|Authentication|terminal prompts/i,
    );
    const ws = await prepareWorkspace({ runId: "r_5", taskId: "t_5", project: p, token: TOKEN }, { root });
    writeFileSync(join(ws.path, "x.txt"), "x\n");
    const committed = await commitAll(ws, "feat: x\n");

    const refused = await pushBranch(ws, p, committed.headSha, { token: "wrong-token-value" }).catch(
      (e: Error) => e,
    );
    expect(String(refused)).not.toContain("wrong-token-value");
    expect(await pushBranch(ws, p, committed.headSha, { token: TOKEN })).toEqual({
      pushed: true,
      remoteUrl: url,
    });
    expect(await git(repo.remotePath, "rev-parse", "task/t_5")).toBe(committed.headSha);

    expect(seen.some((r) => r.url.includes("git-receive-pack") && r.authorization === expected)).toBe(true);
    const { stdout } = await run("grep", ["-rl", "--", TOKEN, root], { encoding: "utf8" }).catch(() => ({
      stdout: "",
    }));
    expect(stdout).toBe("");
    const basic = expected.slice("Basic ".length);
    const again = await run("grep", ["-rl", "--", basic, root], { encoding: "utf8" }).catch(() => ({
      stdout: "",
    }));
    expect(again.stdout).toBe("");
  });
});

/** A minimal smart-HTTP git server: `git http-backend` as CGI. */
function httpBackend(
  req: IncomingMessage,
  res: import("node:http").ServerResponse,
  projectRoot: string,
): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const child = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: "gimo",
      REMOTE_ADDR: "127.0.0.1",
      REQUEST_METHOD: req.method,
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
      GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
    },
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (started) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of head.subarray(0, end).toString().split("\r\n")) {
      const [key, ...rest] = line.split(":");
      const value = rest.join(":").trim();
      if (key?.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else if (key) headers[key] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
    started = true;
  });
  child.on("close", () => res.end());
}
