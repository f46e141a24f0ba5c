import { isUtf8 } from "node:buffer";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { walkTree } from "./tree-walk.ts";

/**
 * What GIMO checks in a worktree a command has written, before its own git reads it (commit.ts):
 *
 *  - a nested repository (any `.git` below the top, file or directory): git would record it as a
 *    gitlink — a pointer to history nobody reviewed — and to do so would read the pointer files in
 *    it, which may lead anywhere on the host. GIMO commits plain files only: refused, with the paths.
 *  - a FIFO, socket or device named `.git…` (`.gitignore`, `.gitattributes`, `.gitmodules`): git
 *    opens those by name and would block on a FIFO forever. Other special files are harmless (git
 *    skips them; they are not committed).
 *  - a name that is not UTF-8: GIMO could not tell it from a twin spelled with U+FFFD, and git and
 *    every forge would show it mangled. Refused, so that nothing below is decided on a lossy name.
 *
 * The walk (tree-walk.ts) goes by bytes through directory descriptors — every depth, no symlink
 * followed, no file opened — skips the agent's own `.git` at the top, and fails closed: a directory
 * it cannot read refuses the commit.
 */
export async function refuseUntrustedEntries(root: string): Promise<void> {
  const nested: string[] = [];
  const special: string[] = [];
  const undecodable: string[] = [];
  const GIT = Buffer.from(".git");
  try {
    await walkTree(root, {
      visit: ({ name, rel, dirent }) => {
        if (!isUtf8(name)) {
          undecodable.push(rel.toString("utf8"));
          return false;
        }
        if (name.equals(GIT)) {
          if (!rel.equals(GIT)) nested.push(rel.toString("utf8"));
          return false;
        }
        if (
          !dirent.isFile() &&
          !dirent.isDirectory() &&
          !dirent.isSymbolicLink() &&
          name.subarray(0, 4).equals(GIT)
        )
          special.push(rel.toString("utf8"));
        return true;
      },
    });
  } catch (error) {
    throw new GimoError(
      "forbidden",
      `the worktree could not be checked before the commit (${(error as Error).message}); refusing to commit`,
    );
  }
  if (undecodable.length > 0) {
    throw new GimoError(
      "forbidden",
      `the worktree contains file names that are not UTF-8 (${list(undecodable)}); refusing to commit them`,
      { undecodable_names: undecodable.slice(0, 50) },
    );
  }
  if (nested.length > 0) {
    throw new GimoError(
      "forbidden",
      `the worktree contains a nested git repository (${list(nested)}); GIMO commits plain files only, never a nested repository or a gitlink — remove its .git`,
      { nested_repositories: nested.slice(0, 50) },
    );
  }
  if (special.length > 0) {
    throw new GimoError(
      "forbidden",
      `the worktree contains special files where git reads its own settings (${list(special)}); refusing to commit`,
      { special_files: special.slice(0, 50) },
    );
  }
}

function list(paths: string[]): string {
  const shown = paths.slice(0, 5).join(", ");
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}

/** The on-disk size of each path (relative to `root`), without following a symlink; 0 when gone. */
export async function sizesOf(root: string, paths: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  await Promise.all(
    paths.map(async (path) => {
      const info = await lstat(join(root, path)).catch(() => undefined);
      sizes.set(path, info && (info.isFile() || info.isSymbolicLink()) ? info.size : 0);
    }),
  );
  return sizes;
}
