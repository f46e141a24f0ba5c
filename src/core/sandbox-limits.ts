import { GimoError } from "./errors.ts";

/**
 * The resource limits of a run's sandbox (SPEC §4.2), enforced by the kernel around every command,
 * outside the model's reach:
 *
 *  - `max_processes`  processes and threads at once (RLIMIT_NPROC, counted in the command's own
 *                     user namespace, so other runs and GIMO itself never count against it);
 *  - `max_memory_mb`  writable memory per process (RLIMIT_DATA; the address space, RLIMIT_AS, is
 *                     capped at four times that so runtimes that reserve large ranges still start);
 *  - `max_file_mb`    the largest file a command may write (RLIMIT_FSIZE: the write fails, SIGXFSZ);
 *  - `max_open_files` open file descriptors per process (RLIMIT_NOFILE);
 *  - `max_workspace_mb` the workspace's size on disk, watched while commands run (disk-watch.ts);
 *  - `max_commit_mb`  what GIMO agrees to commit: the total size of the files a run adds or changes.
 *
 * Where they come from: the defaults below, replaced by the project's `sandbox.limits` (admin), and
 * per plan by its `limits`, which may not exceed the project's `sandbox.max_limits` (admin) — by
 * default the project's own limits, so a plan can lower a limit but raising one needs an admin.
 */
export interface SandboxLimits {
  max_processes: number;
  max_memory_mb: number;
  max_file_mb: number;
  max_open_files: number;
  max_workspace_mb: number;
  max_commit_mb: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  max_processes: 512,
  max_memory_mb: 2_048,
  max_file_mb: 1_024,
  max_open_files: 4_096,
  max_workspace_mb: 10_240,
  max_commit_mb: 100,
};

export interface LimitSources {
  project?: Partial<SandboxLimits>;
  projectMax?: Partial<SandboxLimits>;
  plan?: Partial<SandboxLimits>;
}

/** The limits a run gets; a plan asking for more than the project allows is a `forbidden` error. */
export function effectiveLimits(sources: LimitSources): SandboxLimits {
  const out = { ...DEFAULT_SANDBOX_LIMITS };
  for (const key of Object.keys(out) as (keyof SandboxLimits)[]) {
    const base = numberOr(sources.project?.[key], DEFAULT_SANDBOX_LIMITS[key]);
    const ceiling = numberOr(sources.projectMax?.[key], base);
    const asked = sources.plan?.[key];
    if (typeof asked === "number" && asked > ceiling) {
      throw new GimoError(
        "forbidden",
        `the plan asks for ${key} ${asked}, above the project's maximum of ${ceiling} (an admin can raise sandbox.max_limits)`,
        { limit: key, asked, maximum: ceiling },
      );
    }
    out[key] = typeof asked === "number" ? asked : base;
  }
  return out;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}
