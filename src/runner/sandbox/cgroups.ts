import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SandboxLimits } from "../../core/sandbox-limits.ts";

/**
 * Control groups for sandboxed commands, where the host lets GIMO make them: each command runs in
 * a cgroup of its own whose memory and process count are capped for the command and everything it
 * starts together — what rlimits (per process) cannot do against a fork bomb of memory hogs.
 *
 *  - cgroup v2: in the directory `GIMO_SANDBOX_CGROUP` names, which must be delegated to GIMO
 *    (writable, `memory` and `pids` in its `cgroup.subtree_control`; with systemd, a unit with
 *    `Delegate=yes` and a sub-cgroup for GIMO's own process). `memory.max`, `memory.swap.max=0`,
 *    `pids.max`.
 *  - cgroup v1 (hybrid hosts), automatically when GIMO runs as root and the `memory` and `pids`
 *    hierarchies are mounted: children of GIMO's own cgroups there. `memory.limit_in_bytes`,
 *    `pids.max`.
 *  - neither: rlimits only (rlimits.ts), and `describe()` says so.
 *
 * A command joins its cgroups before bubblewrap starts (`JOIN`: a shell writes its own pid to each
 * `cgroup.procs`, then execs bwrap), so nothing it forks escapes them. When it has ended, the
 * cgroups are removed (after killing any straggler).
 */
export interface Placement {
  /** The `cgroup.procs` files the command's first process writes itself into. */
  procs: string[];
  release(): Promise<void>;
}

export interface Cgroups {
  readonly describe: string;
  place(limits: SandboxLimits): Promise<Placement>;
}

/** `sh -c JOIN sh <procs…> -- <command…>`: joins each cgroup, then becomes the command. */
export const JOIN = 'while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

const MIB = 1024 * 1024;
let counter = 0;

export async function detectCgroups(delegated: string | undefined): Promise<Cgroups | undefined> {
  if (delegated) return v2(delegated);
  if (process.getuid?.() !== 0) return undefined;
  return v1();
}

async function v2(dir: string): Promise<Cgroups> {
  const controllers = await readFile(join(dir, "cgroup.subtree_control"), "utf8").catch(() => "");
  const missing = ["memory", "pids"].filter((c) => !controllers.split(/\s+/).includes(c));
  if (missing.length > 0) {
    throw new Error(
      `GIMO_SANDBOX_CGROUP=${dir} is not a delegated cgroup v2 directory with ${missing.join(" and ")} in its cgroup.subtree_control`,
    );
  }
  return {
    describe: `cgroup v2 (${dir}): memory and processes per command`,
    place: async (limits) => {
      const own = join(dir, name());
      await mkdir(own);
      await writeFile(join(own, "memory.max"), String(limits.max_memory_mb * MIB));
      await writeFile(join(own, "memory.swap.max"), "0").catch(() => undefined);
      await writeFile(join(own, "pids.max"), String(limits.max_processes));
      return placement([own], async () => {
        await writeFile(join(own, "cgroup.kill"), "1").catch(() => undefined);
      });
    },
  };
}

async function v1(): Promise<Cgroups | undefined> {
  const mine = await readFile("/proc/self/cgroup", "utf8").catch(() => "");
  const pathOf = (controller: string) =>
    mine
      .split("\n")
      .map((line) => line.split(":"))
      .find(([, controllers]) => controllers?.split(",").includes(controller))?.[2];
  const memory = pathOf("memory");
  const pids = pathOf("pids");
  if (memory === undefined || pids === undefined) return undefined;
  const memoryDir = join("/sys/fs/cgroup/memory", memory);
  const pidsDir = join("/sys/fs/cgroup/pids", pids);
  const usable = await Promise.all(
    [join(memoryDir, "memory.limit_in_bytes"), join(pidsDir, "cgroup.procs")].map((f) =>
      readFile(f).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (usable.includes(false)) return undefined;
  return {
    describe: "cgroup v1 (memory, pids): memory and processes per command",
    place: async (limits) => {
      const id = name();
      const mem = join(memoryDir, id);
      const pid = join(pidsDir, id);
      await mkdir(mem);
      await mkdir(pid).catch(async (error) => {
        await rmdir(mem).catch(() => undefined);
        throw error;
      });
      await writeFile(join(mem, "memory.limit_in_bytes"), String(limits.max_memory_mb * MIB));
      await writeFile(join(pid, "pids.max"), String(limits.max_processes));
      return placement([mem, pid], async (dir) => {
        const left = (await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => ""))
          .split("\n")
          .filter(Boolean);
        for (const p of left) {
          try {
            process.kill(Number(p), "SIGKILL");
          } catch {
            // gone already
          }
        }
      });
    },
  };
}

function name(): string {
  counter += 1;
  return `gimo-${process.pid}-${counter}`;
}

/** Removes the cgroups once the processes left in them (normally none) are gone. */
function placement(dirs: string[], kill: (dir: string) => Promise<void>): Placement {
  return {
    procs: dirs.map((d) => join(d, "cgroup.procs")),
    release: async () => {
      for (const dir of dirs) {
        for (let attempt = 0; attempt < 50; attempt++) {
          try {
            await rmdir(dir);
            break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "ENOENT") break;
            await kill(dir);
            await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
          }
        }
      }
    },
  };
}
