import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { GimoError } from "../../core/errors.ts";

/**
 * The per-repository lock that serialises git operations touching one repository's worktree list
 * (`git worktree add/remove/prune`, the fetch before them): `git worktree add` races with itself.
 *
 * Two layers, taken in order:
 *  1. in-process: a promise chain per lock path, so the runs of one process queue without polling;
 *  2. across processes: a lock FILE created with O_EXCL (`wx`) holding its owner
 *     `{pid, host, boot, token}`. A contender polls (10 ms, growing to 200 ms) until the file is
 *     gone or its owner is dead, then takes it.
 *
 * An owner is dead when it ran on this host and either the machine rebooted since (another boot id)
 * or its pid no longer exists; an owner on another host (a shared filesystem) is presumed dead
 * after an hour. The same test tells whether a leftover worktree belongs to a live run (`isAlive`).
 * Release removes the file only if it still holds our token. The lock's directory must exist (the
 * repository's git dir, the mirrors dir): a lock never creates a directory where a repository was.
 *
 * The chain map is the one piece of module state in the workspace code: a lock is a fact about the
 * process, shared by every caller in it, whatever options they were given.
 */
const chains = new Map<string, Promise<void>>();

export interface Owner {
  pid: number;
  host: string;
  boot: string;
  at: string;
}

const FOREIGN_STALE_MS = 60 * 60_000;
const DEFAULT_WAIT_MS = 15 * 60_000;

export function currentOwner(): Owner {
  return { pid: process.pid, host: hostname(), boot: bootId(), at: new Date().toISOString() };
}

export function isAlive(owner: Partial<Owner> | undefined, ageMs: number): boolean {
  if (!owner || typeof owner.pid !== "number" || typeof owner.host !== "string") return false;
  if (owner.host !== hostname()) return ageMs < FOREIGN_STALE_MS;
  if (owner.boot && owner.boot !== bootId()) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `fn` holding the lock at `lockFile` (in this process and across processes). */
export async function withRepoLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  waitMs = DEFAULT_WAIT_MS,
): Promise<T> {
  const previous = chains.get(lockFile) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  chains.set(lockFile, tail);
  try {
    await previous;
    const token = await acquireFile(lockFile, waitMs);
    try {
      return await fn();
    } finally {
      await releaseFile(lockFile, token);
    }
  } finally {
    release();
    if (chains.get(lockFile) === tail) chains.delete(lockFile);
  }
}

async function acquireFile(lockFile: string, waitMs: number): Promise<string> {
  const token = randomBytes(8).toString("hex");
  const deadline = Date.now() + waitMs;
  let delay = 10;
  for (;;) {
    try {
      const handle = await open(lockFile, "wx", 0o644);
      try {
        await handle.writeFile(JSON.stringify({ ...currentOwner(), token }));
      } finally {
        await handle.close();
      }
      return token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readOwner(lockFile);
    if (holder && !isAlive(holder.owner, holder.ageMs)) {
      await unlink(lockFile).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder?.owner ? ` (held by pid ${holder.owner.pid} on ${holder.owner.host})` : "";
      throw new GimoError("unavailable", `timed out waiting for the repository lock ${lockFile}${who}`);
    }
    await sleep(delay);
    delay = Math.min(200, delay * 2);
  }
}

async function readOwner(
  lockFile: string,
): Promise<{ owner: Partial<Owner> | undefined; ageMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(lockFile, "utf8"), stat(lockFile)]);
    let owner: Partial<Owner> | undefined;
    try {
      owner = JSON.parse(text) as Partial<Owner>;
    } catch {
      // Created but not written yet: treat as alive for a moment.
      return Date.now() - info.mtimeMs < 5_000
        ? undefined
        : { owner: undefined, ageMs: Date.now() - info.mtimeMs };
    }
    return { owner, ageMs: Date.now() - info.mtimeMs };
  } catch {
    return undefined;
  }
}

async function releaseFile(lockFile: string, token: string): Promise<void> {
  try {
    const held = JSON.parse(await readFile(lockFile, "utf8")) as { token?: string };
    if (held.token === token) await unlink(lockFile);
  } catch {
    // Already gone.
  }
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}
