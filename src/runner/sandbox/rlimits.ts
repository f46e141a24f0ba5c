import type { SandboxLimits } from "../../core/sandbox-limits.ts";

/**
 * A run's `SandboxLimits` as `prlimit` arguments. `prlimit` runs inside the sandbox, after the user
 * namespace exists, as the last step before the command: RLIMIT_NPROC is then counted in that
 * namespace only (since Linux 5.14), so the limit is the command's own, whatever else runs as the
 * same uid on the host. Soft and hard limits are equal: the command cannot raise them.
 */
const MIB = 1024 * 1024;
/** The address-space cap, as a multiple of the writable-memory limit (runtimes reserve large ranges). */
export const ADDRESS_SPACE_FACTOR = 16;

export function rlimitArgs(limits: SandboxLimits): string[] {
  const data = limits.max_memory_mb * MIB;
  return [
    `--nproc=${limits.max_processes}`,
    `--data=${data}`,
    `--as=${data * ADDRESS_SPACE_FACTOR}`,
    `--fsize=${limits.max_file_mb * MIB}`,
    `--nofile=${limits.max_open_files}`,
    "--core=0",
  ];
}
