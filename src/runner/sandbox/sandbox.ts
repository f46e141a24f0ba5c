import type { SandboxLimits } from "../../core/sandbox-limits.ts";
import { createBwrapSandbox } from "./bwrap.ts";
import { sandboxEnv } from "./env.ts";
import type { SandboxUser } from "./identity.ts";
import { runProcess } from "./process.ts";
import { checkSpec, preview } from "./spec.ts";

/**
 * The sandbox port (SPEC §4.2): every command GIMO runs for a plan — setup, command steps, tests,
 * the agent's `run_command` and `search`, an agent CLI — goes through `Sandbox.run`/`runArgv`, with
 * a timeout, an output cap, resource limits and an environment holding only what the caller passes.
 *
 * Two kinds:
 *  - `bwrap` (GIMO_SANDBOX=on, the default): bubblewrap. The command sees the workspace at its
 *    own path (read-write), the rest of the filesystem read-only with credentials and GIMO's
 *    data dir masked, a private /tmp, its own PID, IPC, UTS and network namespaces, no
 *    capabilities, `no_new_privs`, a user namespace and an unprivileged uid (layout.ts,
 *    identity.ts, bwrap.ts), and the limits of `SandboxLimits` (limits.ts). With `network: true`
 *    it still has no interface to the host: its traffic goes through GIMO's egress proxy, which
 *    refuses the host's loopback and private addresses and applies the egress allowlist
 *    (network.ts). When bubblewrap is missing or fails its self-check, every run is refused with
 *    an `unavailable` error: GIMO never silently falls back.
 *  - `off` (GIMO_SANDBOX=off, explicit): runs directly, with the clean environment, the timeout
 *    and the cap only, and warns on every run.
 *
 * A timeout or an abort kills the whole process group (SIGTERM, then SIGKILL): process.ts.
 */
export interface SandboxSpec {
  /** Absolute host path of the workspace: the only place a command may write. */
  workspace: string;
  /** Whether commands may reach the network (through the egress proxy; the project's `sandbox.network`). */
  network: boolean;
  /** With network on: the hosts commands may reach (`host`, `host:port`, `*.domain`); empty = any public host. */
  egress?: string[];
  /** With network on: `host[:port]`s reachable whatever `egress` says (an agent CLI's model API). */
  egressAlways?: string[];
  /** The command's whole environment, on top of a minimal PATH/HOME/TMPDIR/LANG. */
  env?: Record<string, string>;
  timeoutMs: number;
  outputCapBytes: number;
  /** Working directory, relative to the workspace; default the workspace. */
  cwd?: string;
  /** Resource limits (default `DEFAULT_SANDBOX_LIMITS`). */
  limits?: SandboxLimits;
}

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  /** stdout and stderr interleaved as they arrived; capped: head and tail around "…[n bytes cut]…". */
  output: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
  /** Set when the sandbox stopped the command for a limit it watches (the workspace's size). */
  limitExceeded?: "max_workspace_mb";
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Live output, decoded, as it arrives; capped at `streamCapBytes` (default: the output cap). */
  onOutput?: (chunk: string) => void;
  streamCapBytes?: number;
}

export interface Sandbox {
  readonly kind: "bwrap" | "off";
  /** The uid/gid commands run as when it is not GIMO's own: files handed to them must be theirs. */
  readonly user: SandboxUser | undefined;
  /** What confines commands run with `spec`, in words for the run's log (prepares the sandbox). */
  describe(spec: SandboxSpec): Promise<string>;
  /** Runs `command` with `/bin/sh -c`. */
  run(command: string, spec: SandboxSpec, opts?: RunOptions): Promise<CommandResult>;
  runArgv(argv: string[], spec: SandboxSpec, opts?: RunOptions): Promise<CommandResult>;
}

export interface SandboxDeps {
  warn?: (msg: string) => void;
  /** Where bubblewrap is; default: found on PATH. */
  bwrapPath?: string;
  /** Paths to hide from commands (GIMO's data dir). */
  hide?: string[];
  /** The home whose credential files are masked; default the current user's. */
  home?: string;
  /** The uid/gid commands run as when GIMO is root (`GIMO_SANDBOX_UID`; default 64999). */
  sandboxId?: number;
  /** A delegated cgroup v2 directory for per-command cgroups (`GIMO_SANDBOX_CGROUP`). */
  cgroup?: string;
}

export function createSandbox(mode: "on" | "off", deps: SandboxDeps = {}): Sandbox {
  return mode === "on" ? createBwrapSandbox(deps) : createDirectSandbox(deps.warn ?? defaultWarn);
}

function createDirectSandbox(warn: (msg: string) => void): Sandbox {
  const sandbox: Sandbox = {
    kind: "off",
    user: undefined,
    describe: async () =>
      "no sandbox (GIMO_SANDBOX=off): commands run as GIMO's own user, with a clean environment and a timeout only",
    run: (command, spec, opts) => sandbox.runArgv(["/bin/sh", "-c", command], spec, opts),
    async runArgv(argv, spec, opts) {
      const { workspace, cwd } = await checkSpec(argv, spec);
      warn(
        `GIMO_SANDBOX=off: running without a sandbox (no filesystem or network isolation): ${preview(argv)}`,
      );
      const [file, ...args] = argv as [string, ...string[]];
      return runProcess(
        { file, args, env: sandboxEnv(spec.env), cwd: `${workspace}${cwd === "." ? "" : `/${cwd}`}` },
        spec,
        opts,
      );
    },
  };
  return sandbox;
}

function defaultWarn(msg: string): void {
  process.stderr.write(`warning: ${msg}\n`);
}
