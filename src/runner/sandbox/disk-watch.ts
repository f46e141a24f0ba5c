import { lstat, statfs } from "node:fs/promises";
import { walkTree } from "../workspace/tree-walk.ts";

/**
 * The workspace's disk quota (`max_workspace_mb`), kept by watching rather than by the kernel: the
 * workspace is a plain directory on the runner's disk, where no quota is assumed to exist. While a
 * command runs, the free space of the workspace's filesystem is read every `intervalMs` (one
 * `statfs`, nearly free); once `step` more bytes are gone since the last measure, the workspace
 * itself is measured (every block it holds, by a walk through descriptors) and, above the limit,
 * the command is stopped. Disk filled by something else triggers a measure, never a stop.
 *
 * A command can overshoot by what it writes within one interval; the run then fails
 * `workspace_too_large` (work.ts), so nothing keeps growing.
 */
export interface DiskWatch {
  stop(): void;
}

export interface DiskWatchOptions {
  intervalMs?: number;
  /** Bytes of disk consumed that trigger a measure of the workspace. */
  step?: number;
}

export function watchWorkspace(
  path: string,
  limitBytes: number,
  onExceeded: (bytes: number) => void,
  opts: DiskWatchOptions = {},
): DiskWatch {
  const step = opts.step ?? Math.max(4 * MIB, Math.min(64 * MIB, Math.floor(limitBytes / 8)));
  let stopped = false;
  let baseline: number | undefined;
  let busy = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const free = await freeBytes(path);
      baseline ??= free;
      if (baseline - free < step) return;
      baseline = free;
      const used = await diskUsage(path);
      if (used > limitBytes && !stopped) {
        stopped = true;
        clearInterval(timer);
        onExceeded(used);
      }
    } catch {
      // the workspace is being removed, or unreadable: the commit's checks still stand
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(tick, opts.intervalMs ?? 250);
  void tick();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

const MIB = 1024 * 1024;

async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}

/** Every block `path` and what is under it hold (sparse files count what they really use). */
export async function diskUsage(path: string): Promise<number> {
  let bytes = ((await lstat(path)).blocks ?? 0) * 512;
  await walkTree(path, {
    visit: async ({ at }) => {
      bytes += ((await lstat(at)).blocks ?? 0) * 512;
      return true;
    },
  });
  return bytes;
}
