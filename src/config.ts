import { resolve } from "node:path";
import type { GitIdentity } from "./runner/workspace/commit.ts";

/**
 * Configuration, parsed once at start from the environment into a typed object and passed down.
 * Every variable is documented in the README.
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /**
   * SQLite's `synchronous` (GIMO_SQLITE_SYNCHRONOUS): `full` (the default) syncs every commit to
   * disk; `normal` syncs at checkpoints only — a commit survives a crash of GIMO, but not of the
   * machine (a power cut may undo the last ones, never corrupt the file).
   */
  sqliteSynchronous: SqliteSynchronous;
  envTokens: { admin?: string; operator?: string; actions?: string; runner?: string };
  leaseSeconds: number;
  generateWaitSeconds: number;
  runTtlDays: number;
  sandbox: "on" | "off";
  /** The uid and gid sandboxed commands run as when GIMO runs as root. */
  sandboxUid: number;
  /** A delegated cgroup v2 directory in which each sandboxed command gets a cgroup of its own. */
  sandboxCgroup: string | undefined;
  embeddedRunners: number;
  masterKey: string | undefined;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  publicUrl: string;
  maxBodyBytes: number;
  rateLimit: { perSecond: number; burst: number };
  maxAttempts: number;
  /** Base of the jittered exponential backoff after an infrastructure failure. */
  retryBaseSeconds: number;
  /** JSON `{planner?, executor?}` loaded into the provider settings at start. */
  providersFile: string | undefined;
  /** Origins a browser panel may call the API from (GIMO_CORS_ORIGINS); empty = CORS off. */
  corsOrigins: string[];
  /** Who run commits are by: GIT_AUTHOR_NAME/EMAIL, GIT_COMMITTER_NAME/EMAIL; GIMO <gimo@localhost>. */
  gitIdentity: GitIdentity;
}

/**
 * A remote runner's configuration (`gimo runner`): the server's URLs and the runner token, and the
 * settings it shares with `gimo serve` for the work of a run. Flags given on the command line win.
 */
export interface RunnerConfig {
  /** GIMO_URL: one or more server URLs, comma-separated. */
  servers: string;
  /** GIMO_TOKEN, else ORCH_RUNNER_TOKEN. */
  token: string | undefined;
  dataDir: string;
  sandbox: Config["sandbox"];
  sandboxUid: number;
  sandboxCgroup: string | undefined;
  logLevel: Config["logLevel"];
  gitIdentity: GitIdentity;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

const logLevels = ["debug", "info", "warn", "error", "silent"] as const;

function logLevel(env: Env): Config["logLevel"] {
  const level = (nonEmpty(env.LOG_LEVEL) ?? "info").toLowerCase();
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new Error(`LOG_LEVEL must be one of ${logLevels.join(", ")}`);
  }
  return level as Config["logLevel"];
}

function sandboxMode(env: Env): Config["sandbox"] {
  const sandbox = (nonEmpty(env.GIMO_SANDBOX) ?? "on").toLowerCase();
  if (sandbox !== "on" && sandbox !== "off") throw new Error("GIMO_SANDBOX must be on or off");
  return sandbox;
}

function gitIdentity(env: Env): GitIdentity {
  const authorName = nonEmpty(env.GIT_AUTHOR_NAME) ?? "GIMO";
  const authorEmail = nonEmpty(env.GIT_AUTHOR_EMAIL) ?? "gimo@localhost";
  return {
    authorName,
    authorEmail,
    committerName: nonEmpty(env.GIT_COMMITTER_NAME) ?? authorName,
    committerEmail: nonEmpty(env.GIT_COMMITTER_EMAIL) ?? authorEmail,
  };
}

/** What a process running sandboxed work reads, the server and a remote runner alike. */
function workSettings(env: Env) {
  return {
    dataDir: resolve(nonEmpty(env.GIMO_DATA_DIR) ?? ".orch_data"),
    sandbox: sandboxMode(env),
    sandboxUid: int(env, "GIMO_SANDBOX_UID", 64_999, 1),
    sandboxCgroup: nonEmpty(env.GIMO_SANDBOX_CGROUP),
    logLevel: logLevel(env),
    gitIdentity: gitIdentity(env),
  };
}

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  return {
    servers: nonEmpty(env.GIMO_URL) ?? "http://127.0.0.1:9325",
    token: nonEmpty(env.GIMO_TOKEN) ?? nonEmpty(env.ORCH_RUNNER_TOKEN),
    ...workSettings(env),
  };
}

export type SqliteSynchronous = "full" | "normal";

function sqliteSynchronous(env: Env): SqliteSynchronous {
  const value = (nonEmpty(env.GIMO_SQLITE_SYNCHRONOUS) ?? "full").toLowerCase();
  if (value !== "full" && value !== "normal")
    throw new Error(`GIMO_SQLITE_SYNCHRONOUS must be full or normal (got ${JSON.stringify(value)})`);
  return value;
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const host = nonEmpty(env.GIMO_HOST) ?? "127.0.0.1";
  const port = int(env, "GIMO_PORT", 9325);
  const config: Config = {
    ...workSettings(env),
    host,
    port,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    sqliteSynchronous: sqliteSynchronous(env),
    envTokens: {
      admin: nonEmpty(env.ORCH_ADMIN_TOKEN),
      operator: nonEmpty(env.ORCH_OPERATOR_TOKEN),
      actions: nonEmpty(env.ORCH_ACTIONS_TOKEN),
      runner: nonEmpty(env.ORCH_RUNNER_TOKEN),
    },
    leaseSeconds: int(env, "GIMO_LEASE_S", 30, 1),
    generateWaitSeconds: int(env, "GIMO_GENERATE_WAIT_S", 25),
    runTtlDays: int(env, "OPS_RUN_TTL", 30, 1),
    embeddedRunners: int(env, "GIMO_EMBEDDED_RUNNERS", 1),
    masterKey: nonEmpty(env.GIMO_MASTER_KEY),
    publicUrl: nonEmpty(env.GIMO_PUBLIC_URL) ?? `http://${host}:${port}`,
    maxBodyBytes: int(env, "GIMO_MAX_BODY_BYTES", 1_048_576, 1_024),
    rateLimit: {
      perSecond: int(env, "GIMO_RATE_LIMIT_RPS", 50),
      burst: int(env, "GIMO_RATE_LIMIT_BURST", 200, 1),
    },
    maxAttempts: int(env, "GIMO_MAX_ATTEMPTS", 3, 1),
    retryBaseSeconds: int(env, "GIMO_RETRY_BASE_S", 5),
    providersFile: nonEmpty(env.GIMO_PROVIDERS_FILE),
    corsOrigins: corsOrigins(env.GIMO_CORS_ORIGINS),
  };
  return { ...config, ...overrides };
}

/**
 * `GIMO_CORS_ORIGINS=https://panel.example.com,http://localhost:5173`: exact origins (scheme,
 * host, optional port; no path), or `*` for any. Unset or empty: no CORS headers at all.
 */
function corsOrigins(raw: string | undefined): string[] {
  const list = (raw ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const origin of list) {
    if (
      origin !== "*" &&
      !/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(origin) &&
      !/^https?:\/\/\[[0-9a-f:]+\](:\d{1,5})?$/i.test(origin)
    )
      throw new Error(
        `GIMO_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path), nor *`,
      );
  }
  return list;
}
