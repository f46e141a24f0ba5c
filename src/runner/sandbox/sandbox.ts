import { createBwrapSandbox } from "./bwrap.ts";
import { sandboxEnv } from "./env.ts";
import { runProcess } from "./process.ts";
import { checkSpec, preview } from "./spec.ts";

/**
 * The sandbox port (SPEC §4.2): every command GIMO runs for a plan — setup, command steps, tests,
 * the agent's `run_command`, an agent CLI — goes through `Sandbox.run`/`runArgv`, with a timeout, an
 * output cap and an environment holding only what the caller passes (env.ts).
 *
 * Two kinds:
 *  - `bwrap` (GIMO_SANDBOX=on, the default): bubblewrap — the workspace read-write, the rest of the
 *    filesystem read-only, credentials and runtime sockets masked, a private /tmp, no network unless
 *    `network: true`, no capabilities (bwrap.ts, mounts.ts). When bubblewrap is missing or fails its
 *    self-check, every run is refused with an `unavailable` error: GIMO never silently falls back.
 *  - `off` (GIMO_SANDBOX=off, explicit): runs directly, still with the clean environment, the
 *    timeout and the cap, and warns on every run.
 *
 * A timeout or an abort kills the whole process group (SIGTERM, then SIGKILL): process.ts.
 */
export interface SandboxSpec {
  /** Absolute path of the workspace: the only place a command may write (with `extraWritable`). */
  workspace: string;
  /** Whether the command may use the network (the project's `sandbox.network`; agent CLIs need it). */
  network: boolean;
  /** The command's whole environment, on top of a minimal PATH/HOME/TMPDIR/LANG. */
  env?: Record<string, string>;
  timeoutMs: number;
  outputCapBytes: number;
  /** Working directory, inside the workspace; default the workspace. */
  cwd?: string;
  /** More absolute paths to keep writable, e.g. a worktree's `.git/worktrees/<name>` (see git-paths.ts). */
  extraWritable?: string[];
  /** More absolute paths to keep readable even under a masked or private directory. */
  extraReadable?: string[];
}

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  /** stdout and stderr interleaved as they arrived; capped: head and tail around "…[n bytes cut]…". */
  output: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Live output, decoded, as it arrives; capped at `streamCapBytes` (default: the output cap). */
  onOutput?: (chunk: string) => void;
  streamCapBytes?: number;
}

export interface Sandbox {
  readonly kind: "bwrap" | "off";
  /** Runs `command` with `/bin/sh -c`. */
  run(command: string, spec: SandboxSpec, opts?: RunOptions): Promise<CommandResult>;
  runArgv(argv: string[], spec: SandboxSpec, opts?: RunOptions): Promise<CommandResult>;
}

export interface SandboxDeps {
  warn?: (msg: string) => void;
  /** Where bubblewrap is; default: found on PATH. */
  bwrapPath?: string;
  /** Paths to hide from commands (e.g. GIMO's data dir); the workspace and git dirs inside stay visible. */
  hide?: string[];
  /** The home whose credential files are masked; default the current user's. */
  home?: string;
}

export function createSandbox(mode: "on" | "off", deps: SandboxDeps = {}): Sandbox {
  return mode === "on" ? createBwrapSandbox(deps) : createDirectSandbox(deps.warn ?? defaultWarn);
}

function createDirectSandbox(warn: (msg: string) => void): Sandbox {
  const sandbox: Sandbox = {
    kind: "off",
    run: (command, spec, opts) => sandbox.runArgv(["/bin/sh", "-c", command], spec, opts),
    async runArgv(argv, spec, opts) {
      const { cwd } = await checkSpec(argv, spec);
      warn(
        `GIMO_SANDBOX=off: running without a sandbox (no filesystem or network isolation): ${preview(argv)}`,
      );
      const [file, ...args] = argv as [string, ...string[]];
      return runProcess({ file, args, env: sandboxEnv(spec.env), cwd }, spec, opts);
    },
  };
  return sandbox;
}

function defaultWarn(msg: string): void {
  process.stderr.write(`warning: ${msg}\n`);
}
