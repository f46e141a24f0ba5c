import type { SandboxLimits } from "../../core/sandbox-limits.ts";
import type { SandboxUser } from "./identity.ts";

/** The sandbox port's types (sandbox.ts describes the port and builds the two kinds). */

export interface SandboxSpec {
  /** Absolute host path of the workspace: the only place a command may write. */
  workspace: string;
  /** Whether commands may reach the network (through the egress proxy; the project's `sandbox.network`). */
  network: boolean;
  /** With network on: the hosts commands may reach (`host`, `host:port`, `*.domain`); empty = any public host. */
  egress?: string[];
  /** With network on: `host[:port]`s reachable whatever `egress` says (an agent CLI's model API). */
  egressAlways?: string[];
  /** With network on: more names for `NO_PROXY` — names a client serves in its own process and
   * must never send to the proxy (OpenCode's `opencode.internal`). */
  noProxy?: string[];
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
  /**
   * A long-lived process confined like a command (an MCP server spoken to over stdio): how to
   * spawn it, and what to release once it has exited. `spec.timeoutMs` does not apply: the
   * caller ends the process.
   */
  prepareProcess(argv: string[], spec: SandboxSpec): Promise<ProcessLaunch>;
}

export interface ProcessLaunch {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Call after the process has exited: its egress proxy and cgroup go. */
  release(): Promise<void>;
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
