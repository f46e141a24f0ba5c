import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A real git repository with one commit on `main`, and a bare remote as `origin`. */
export interface TestRepo {
  path: string;
  remotePath: string;
  git(...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
};

export async function createTestRepo(): Promise<TestRepo> {
  const root = mkdtempSync(join(tmpdir(), "gimo-repo-"));
  const path = join(root, "work");
  const remotePath = join(root, "remote.git");
  const git = async (...args: string[]) =>
    (await run("git", args, { cwd: path, env: GIT_ENV })).stdout.trim();
  await run("git", ["init", "-q", "--bare", "-b", "main", remotePath]);
  await run("git", ["init", "-q", "-b", "main", path]);
  writeFileSync(join(path, "README.md"), "# sample\n");
  await git("add", ".");
  await git("commit", "-q", "-m", "initial commit");
  await git("remote", "add", "origin", remotePath);
  await git("push", "-q", "origin", "main");
  return { path, remotePath, git, remove: async () => rmSync(root, { recursive: true, force: true }) };
}
