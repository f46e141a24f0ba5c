import { constants, type Dirent } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir } from "node:fs/promises";
import { GimoError } from "../../core/errors.ts";
import type { SandboxUser } from "../sandbox/identity.ts";

/**
 * File access for the agent's tools, done by GIMO itself outside the sandbox — so it must not be
 * fooled by a symlink a command planted (a dangling link to a host path "resolves inside" until it
 * is written through). Every path is walked one component at a time from an open descriptor of the
 * workspace: each directory is opened through the previous one's descriptor
 * (`/proc/self/fd/<fd>/<name>`, the same as `openat`) with `O_NOFOLLOW | O_DIRECTORY`, and the file
 * last with `O_NOFOLLOW | O_NONBLOCK`. A symlink anywhere in the path is refused (ELOOP), not
 * followed; a directory swapped for a link mid-walk is caught the same way; a FIFO or device is
 * refused without blocking; a file with other hard links is not written (it could be a host file).
 *
 * Paths are relative and already confined lexically (paths.ts: no `..`, not inside `.git`). Files
 * and directories GIMO creates are given to `owner` (the sandbox user) so commands can change them.
 */
const { O_RDONLY, O_WRONLY, O_CREAT, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

export interface WorkspaceFs {
  /** A file's text, at most `maxBytes` of it, and its whole size. */
  read(rel: string, maxBytes: number): Promise<{ text: string; size: number }>;
  /** Creates or replaces a file; answers whether it was created. */
  write(rel: string, content: string): Promise<boolean>;
  /** Entries of a directory: name and whether it is a (real) directory. */
  list(rel: string): Promise<Dirent[]>;
}

export function workspaceFs(root: string, owner?: SandboxUser): WorkspaceFs {
  const at = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;

  /** The directory `parts` leads to, opened without following a link; made when `create`. */
  const openDir = async (parts: string[], create: boolean): Promise<FileHandle> => {
    let dir = await open(root, DIR_FLAGS);
    let walked = "";
    try {
      for (const name of parts) {
        walked = walked ? `${walked}/${name}` : name;
        let next: FileHandle;
        try {
          next = await open(at(dir, name), DIR_FLAGS);
        } catch (error) {
          // O_DIRECTORY on a symlink answers ENOTDIR: tell a link from a file.
          if (await isLink(at(dir, name))) throw refusal({ code: "ELOOP" }, walked);
          if (!create || (error as NodeJS.ErrnoException).code !== "ENOENT") throw refusal(error, walked);
          await mkdir(at(dir, name), { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== "EEXIST") throw e;
          });
          next = await open(at(dir, name), DIR_FLAGS).catch((e) => {
            throw refusal(e, walked);
          });
          if (owner) await next.chown(owner.uid, owner.gid);
        }
        await dir.close();
        dir = next;
      }
      return dir;
    } catch (error) {
      await dir.close();
      throw error;
    }
  };

  const split = (rel: string) => {
    const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.some((p) => p === "..")) throw new GimoError("forbidden", `path ${rel} leaves the workspace`);
    return parts;
  };

  return {
    async read(rel, maxBytes) {
      const parts = split(rel);
      const name = parts.pop();
      const dir = await openDir(parts, false);
      try {
        if (!name) throw new GimoError("unprocessable", "a directory, not a file");
        const file = await open(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((e) => {
          throw refusal(e, rel);
        });
        try {
          const info = await file.stat();
          if (!info.isFile()) throw new GimoError("unprocessable", `${rel} is not a regular file`);
          const buffer = Buffer.alloc(Math.min(info.size, maxBytes));
          const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
          return { text: buffer.subarray(0, bytesRead).toString("utf8"), size: info.size };
        } finally {
          await file.close();
        }
      } finally {
        await dir.close();
      }
    },

    async write(rel, content) {
      const parts = split(rel);
      const name = parts.pop();
      if (!name) throw new GimoError("unprocessable", "cannot write the workspace itself");
      const dir = await openDir(parts, true);
      try {
        const existed = await isPresent(at(dir, name));
        const file = await open(at(dir, name), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644).catch(
          (e) => {
            throw refusal(e, rel);
          },
        );
        try {
          const info = await file.stat();
          if (!info.isFile()) throw new GimoError("unprocessable", `${rel} is not a regular file`);
          if (info.nlink > 1)
            throw new GimoError("forbidden", `${rel} has other hard links; refusing to write through it`);
          await file.truncate(0);
          await file.write(content, 0, "utf8");
          if (owner) await file.chown(owner.uid, owner.gid);
        } finally {
          await file.close();
        }
        return !existed;
      } finally {
        await dir.close();
      }
    },

    async list(rel) {
      const dir = await openDir(split(rel), false);
      try {
        return await readdir(`/proc/self/fd/${dir.fd}`, { withFileTypes: true });
      } finally {
        await dir.close();
      }
    },
  };
}

async function isPresent(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

async function isLink(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isSymbolicLink() ?? false;
}

function refusal(error: unknown, path: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ELOOP")
    return new GimoError(
      "forbidden",
      `${path} is a symlink (or goes through one); file tools never follow symlinks — use the path it points to`,
    );
  if (code === "ENOTDIR") return new GimoError("unprocessable", `${path}: a part of it is not a directory`);
  if (code === "ENOENT") return new GimoError("not_found", `${path} does not exist`);
  if (code === "ENXIO") return new GimoError("unprocessable", `${path} is a FIFO or socket, not a file`);
  if (code === "EISDIR") return new GimoError("unprocessable", `${path} is a directory`);
  return error instanceof Error ? error : new Error(String(error));
}
