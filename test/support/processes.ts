import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { Role } from "../../src/core/roles.ts";
import type { TestDatabase } from "./databases.ts";

/**
 * GIMO servers and runners as real operating-system processes, started with the real CLI, so tests
 * can kill -9, SIGSTOP and restart them. `prefix` runs the command through another that execs it
 * (e.g. `ip netns exec NS`, test/support/netns.ts), so the child's pid is still GIMO's.
 */
const CLI = resolve(import.meta.dirname, "../../src/operators/cli/main.ts");
const HANDLERS = resolve(import.meta.dirname, "handlers.ts");

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output: string[];
}

export function processTokens(): Record<Role, string> {
  const t = () => randomBytes(12).toString("hex");
  return { admin: `adm_${t()}`, operator: `opr_${t()}`, actions: `act_${t()}`, runner: `run_${t()}` };
}

export async function startServerProcess(
  db: TestDatabase,
  tokens: Record<Role, string>,
  opts: {
    port?: number;
    host?: string;
    repo?: string;
    env?: Record<string, string>;
    prefix?: string[];
    /** How long it may take to say it listens (default 30 s). */
    startTimeoutMs?: number;
  } = {},
): Promise<ServerProcess> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    GIMO_DATA_DIR: db.dataDir,
    ORCH_ADMIN_TOKEN: tokens.admin,
    ORCH_OPERATOR_TOKEN: tokens.operator,
    ORCH_ACTIONS_TOKEN: tokens.actions,
    ORCH_RUNNER_TOKEN: tokens.runner,
    GIMO_EMBEDDED_RUNNERS: "0",
    GIMO_RATE_LIMIT_RPS: "0",
    LOG_LEVEL: "warn",
    ...opts.env,
  };
  if (db.databaseUrl) env.DATABASE_URL = db.databaseUrl;
  else delete env.DATABASE_URL;
  // Replicas of one database share its vault key (a test may still set another, or "" for none).
  if (db.masterKey && opts.env?.GIMO_MASTER_KEY === undefined) env.GIMO_MASTER_KEY = db.masterKey;
  else if (!db.masterKey && opts.env?.GIMO_MASTER_KEY === undefined) delete env.GIMO_MASTER_KEY;
  const args = [CLI, "serve", "--port", String(opts.port ?? 0)];
  if (opts.host) args.push("--host", opts.host);
  if (opts.repo) args.push("--repo", opts.repo);
  const child = spawnPrefixed(opts.prefix, args, env);
  const output: string[] = [];
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`server did not start: ${output.join("")}`)),
      opts.startTimeoutMs ?? 30_000,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      output.push(chunk.toString());
      const m = output.join("").match(/listening on (http:\/\/\S+)/);
      if (m?.[1]) {
        clearTimeout(timer);
        done(m[1]);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    // "close", not "exit": by then everything the process wrote has been read
    child.once("close", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}: ${output.join("")}`));
    });
  });
  return { url, port: Number(new URL(url).port), child, output };
}

export interface RunnerProcess {
  child: ChildProcess;
  output: string[];
}

export function startRunnerProcess(
  url: string,
  token: string,
  opts: { concurrency?: number; env?: Record<string, string>; name?: string; prefix?: string[] } = {},
): RunnerProcess {
  const args = [CLI, "runner", "--server", url, "--token", token, "--handler", HANDLERS];
  args.push("--concurrency", String(opts.concurrency ?? 1), "--grace", "2");
  if (opts.name) args.push("--name", opts.name);
  const child = spawnPrefixed(opts.prefix, args, { ...process.env, LOG_LEVEL: "error", ...opts.env });
  const output: string[] = [];
  child.stdout?.on("data", (c: Buffer) => output.push(c.toString()));
  child.stderr?.on("data", (c: Buffer) => output.push(c.toString()));
  return { child, output };
}

function spawnPrefixed(prefix: string[] | undefined, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const [command, ...rest] = [...(prefix ?? []), process.execPath, ...args] as [string, ...string[]];
  return spawn(command, rest, { env, stdio: ["ignore", "pipe", "pipe"] });
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once("exit", () => done()));
}

export function kill(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once("exit", () => done());
    child.kill(signal);
  });
}
