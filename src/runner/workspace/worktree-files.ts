import type { Dirent } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { GimoError } from "../../core/errors.ts";

/**
 * What GIMO checks in a worktree a command has written, before its own git reads it (commit.ts):
 *
 *  - a nested repository (any `.git` below the top, file or directory): git would record it as a
 *    gitlink — a pointer to history nobody reviewed — and to do so would read the pointer files in
 *    it, which may lead anywhere on the host. GIMO commits plain files only: refused, with the paths.
 *  - a FIFO, socket or device named `.git…` (`.gitignore`, `.gitattributes`, `.gitmodules`): git
 *    opens those by name and would block on a FIFO forever. Other special files are harmless (git
 *    skips them; they are not committed).
 *
 * The walk reads directory entries only (their types, no symlink followed, no file opened) and
 * skips the agent's own `.git` at the top.
 */
export async function refuseUntrustedEntries(root: string): Promise<void> {
  const nested: string[] = [];
  const special: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable or gone: git will not read it either
    }
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.name === ".git") {
        if (rel !== "") nested.push(path);
      } else if (entry.isDirectory()) {
        await walk(join(dir, entry.name), path);
      } else if (!entry.isFile() && !entry.isSymbolicLink() && entry.name.startsWith(".git")) {
        special.push(path);
      }
    }
  };
  await walk(root, "");
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
