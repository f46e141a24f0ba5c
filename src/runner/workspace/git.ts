import { spawn } from "node:child_process";

/**
 * The narrow port over the `git` CLI that the workspace code uses, and its real implementation.
 *
 * Every call is hardened, because some of them read a worktree an agent has written and all of
 * them run outside the sandbox, as GIMO's own user:
 *  - a clean environment: the variables that would point git at another repository (`GIT_DIR`,
 *    `GIT_WORK_TREE`, `GIT_INDEX_FILE`, …, set when GIMO itself runs inside a git hook) and the
 *    tracing ones (`GIT_TRACE*`, `GIT_CURL_VERBOSE`, which could print an `Authorization` header)
 *    are dropped; `GIT_TERMINAL_PROMPT=0` so a missing credential fails instead of waiting on a
 *    terminal; `LC_ALL=C` so messages are the same everywhere;
 *  - no configuration but the repository's own: no system or global config (`GIT_CONFIG_NOSYSTEM`,
 *    `GIT_CONFIG_GLOBAL=/dev/null`, `HOME` and `XDG_CONFIG_HOME` pointing nowhere), no system
 *    attributes, no replace refs; only the transports file, git, http(s) and ssh (`ext::` would run
 *    a command);
 *  - nothing that runs code: hooks, fsmonitor, submodule recursion and automatic gc off (`HARDENED`,
 *    before every call's own arguments; filters and textconv need a driver in the config, which
 *    only the repository's own config could define).
 * A call's own `env` is added on top.
 *
 * A non-zero exit is a `GitFailed` (unless `allowExit` lists it) whose message names the git
 * subcommand and ends with git's stderr; every string in `redact` is cut out of that message, of
 * stderr and of the arguments it keeps, so a token never reaches a log. Output beyond
 * `maxOutputBytes` stops the process and is reported as `truncated`.
 */
export interface GitCall {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  /** Stop reading (and kill git) after this many bytes of stdout. */
  maxOutputBytes?: number;
  /** Exit codes that are answers, not failures (e.g. `diff --quiet` → 1). */
  allowExit?: number[];
  /** Secrets to cut out of anything this call reports. */
  redact?: string[];
  /** Stops (kills) git when it aborts; the call then fails "aborted". */
  signal?: AbortSignal;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  truncated: boolean;
}

export interface GitRunner {
  run(args: string[], call?: GitCall): Promise<GitResult>;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024;
const STDERR_KEEP = 8_000;

export class GitFailed extends Error {
  readonly args: string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly stdout: string;

  constructor(args: string[], exitCode: number | null, stderr: string, why?: string, stdout = "") {
    const command = subcommand(args);
    const lines = stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("hint:"));
    const tail = lines.slice(-6).join("\n");
    super(`git ${command} ${why ?? `failed (exit ${exitCode})`}${tail ? `: ${tail}` : ""}`);
    this.name = "GitFailed";
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

/** The git subcommand of an argument list: the first word that is not an option or its value. */
function subcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-C" || arg === "-c") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return "";
}

const DROPPED =
  /^(GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|NAMESPACE|PREFIX|CEILING_DIRECTORIES|TRACE.*|CURL_VERBOSE|REDACT_COOKIES|QUARANTINE_PATH|CONFIG_PARAMETERS|CONFIG|CONFIG_SYSTEM|CONFIG_GLOBAL|CONFIG_NOSYSTEM|ATTR_SOURCE|REPLACE_REF_BASE|EXEC_PATH|TEMPLATE_DIR)|GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+))$/;

/** Configuration on every call: nothing git would run on its own. */
// biome-ignore format: pairs
export const HARDENED = [
  "-c", "core.hooksPath=/dev/null",
  "-c", "core.fsmonitor=false",
  "-c", "core.untrackedCache=false",
  "-c", "submodule.recurse=false",
  "-c", "diff.ignoreSubmodules=all",
  "-c", "protocol.ext.allow=never",
  "-c", "gc.auto=0",
  "-c", "maintenance.auto=false",
  "-c", "commit.gpgSign=false",
];

/** The environment git runs with: the process's, cleaned and locked down, plus `extra`. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!DROPPED.test(key)) env[key] = value;
  return {
    ...env,
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    HOME: "/nonexistent",
    XDG_CONFIG_HOME: "/nonexistent",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_NO_REPLACE_OBJECTS: "1",
    GIT_ALLOW_PROTOCOL: "file:git:http:https:ssh",
    ...extra,
  };
}

export function redactAll(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  return out;
}

/** The real port: spawns `git`. */
export function createGitRunner(): GitRunner {
  return { run: runGit };
}

function runGit(args: string[], call: GitCall = {}): Promise<GitResult> {
  const redact = call.redact ?? [];
  const maxOut = call.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn("git", [...HARDENED, ...args], {
      cwd: call.cwd,
      env: gitEnv(call.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let truncated = false;
    let err = "";
    let timedOut = false;
    let aborted = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, call.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const onAbort = () => {
      aborted = true;
      child.kill("SIGKILL");
    };
    if (call.signal?.aborted) onAbort();
    else call.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (chunk: Buffer) => {
      if (truncated) return;
      const room = maxOut - outBytes;
      if (chunk.length > room) {
        out.push(chunk.subarray(0, room));
        outBytes = maxOut;
        truncated = true;
        child.kill("SIGKILL");
      } else {
        out.push(chunk);
        outBytes += chunk.length;
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err = (err + chunk.toString("utf8")).slice(-STDERR_KEEP);
    });
    child.stdin.on("error", () => {}); // git may exit before reading its input
    child.stdin.end(call.input ?? "");
    child.on("error", (error) => {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
      reject(
        new GitFailed(safeArgs(args, redact), null, redactAll(error.message, redact), "could not start"),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
      const stderr = redactAll(err, redact);
      const stdout = Buffer.concat(out).toString("utf8");
      if (aborted) {
        reject(new GitFailed(safeArgs(args, redact), null, stderr, "was stopped (the run was aborted)"));
      } else if (timedOut) {
        reject(
          new GitFailed(
            safeArgs(args, redact),
            null,
            stderr,
            `timed out after ${call.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`,
          ),
        );
      } else if (truncated) {
        resolve({ stdout, stderr, exitCode: code ?? 0, truncated });
      } else if (code === 0 || (code !== null && call.allowExit?.includes(code))) {
        resolve({ stdout, stderr, exitCode: code, truncated });
      } else {
        reject(new GitFailed(safeArgs(args, redact), code, stderr, undefined, redactAll(stdout, redact)));
      }
    });
  });
}

function safeArgs(args: string[], redact: string[]): string[] {
  return args.map((a) => redactAll(a, redact));
}
