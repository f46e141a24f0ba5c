import { constants, type Dirent } from "node:fs";
import { type FileHandle, open, readdir } from "node:fs/promises";

/**
 * A walk over a directory tree a sandboxed command may have written, for GIMO's own code outside
 * the sandbox (checking it before a commit, handing it over, removing it). Names are bytes, never
 * decoded — a name that is not UTF-8 would otherwise come back with U+FFFD in it and name nothing,
 * or a twin the command made with exactly that spelling. Every directory is opened through its
 * parent's descriptor (`/proc/self/fd/<fd>/<name>`, as `openat`) with `O_NOFOLLOW | O_DIRECTORY`,
 * so no symlink is ever followed and no path grows past PATH_MAX however deep the tree goes; each
 * entry is handed to `visit` with such a path (`at`), valid while its parent is open.
 *
 * Any error — an unreadable directory, a directory swapped for a link, descriptors running out —
 * ends the walk with that error: callers fail closed.
 */
export interface TreeEntry {
  /** A path naming the entry through its parent's open descriptor: safe for lstat, lchown, unlink, rmdir. */
  at: Buffer;
  name: Buffer;
  /** The names from the root to the entry, joined with `/`. */
  rel: Buffer;
  dirent: Dirent<Buffer>;
}

export interface WalkHooks {
  /** Called for every entry; answering `false` for a directory skips what is inside it. */
  visit(entry: TreeEntry): Promise<boolean | undefined> | boolean | undefined;
  /** Called for a directory after everything inside it (a post-order hook, e.g. to remove it). */
  leave?(entry: TreeEntry): Promise<void>;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const SLASH = Buffer.from("/");

export async function walkTree(root: string | Buffer, hooks: WalkHooks): Promise<void> {
  const top = await open(root, DIR_FLAGS);
  try {
    await walkDir(top, Buffer.alloc(0), hooks);
  } finally {
    await top.close();
  }
}

async function walkDir(dir: FileHandle, rel: Buffer, hooks: WalkHooks): Promise<void> {
  const prefix = Buffer.from(`/proc/self/fd/${dir.fd}/`);
  const entries = await readdir(prefix, { withFileTypes: true, encoding: "buffer" });
  for (const dirent of entries) {
    const name = dirent.name;
    const entry: TreeEntry = {
      at: Buffer.concat([prefix, name]),
      name,
      rel: rel.length ? Buffer.concat([rel, SLASH, name]) : name,
      dirent,
    };
    const descend = (await hooks.visit(entry)) !== false;
    if (!dirent.isDirectory()) continue;
    if (descend) {
      const sub = await open(entry.at, DIR_FLAGS);
      try {
        await walkDir(sub, entry.rel, hooks);
      } finally {
        await sub.close();
      }
    }
    await hooks.leave?.(entry);
  }
}
