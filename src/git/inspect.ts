import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { promisify } from "node:util";
import { GimoError } from "../core/errors.ts";

const run = promisify(execFile);

export interface RepositoryFacts {
  /** The branch HEAD points at (the default base branch). */
  headBranch: string;
}

/** Checks that `path` is a git repository GIMO can work on, and reads its HEAD branch. */
export async function inspectRepository(path: string): Promise<RepositoryFacts> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new GimoError("validation_failed", `repo_path ${path} is not a directory on the server`);
  }
  try {
    const { stdout } = await run("git", ["-C", path, "symbolic-ref", "--short", "HEAD"], { timeout: 10_000 });
    return { headBranch: stdout.trim() };
  } catch {
    throw new GimoError(
      "validation_failed",
      `repo_path ${path} is not a git repository with a branch checked out`,
    );
  }
}
