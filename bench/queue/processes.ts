/**
 * The queue bench's child processes: `gimo serve`, `gimo runner`, and the forked pg-boss and
 * graphile-worker workers — started, tracked (killed if the bench is interrupted), stopped.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { resolve } from "node:path";
import type { EmbeddedCommand, EmbeddedMessage } from "./embedded-server.ts";
import type { WorkerKind, WorkerMessage } from "./workers.ts";

const CLI = resolve(import.meta.dirname, "../../src/operators/cli/main.ts");
const HANDLER = resolve(import.meta.dirname, "handler.ts");
/**
 * GIMO_BENCH_CPU_PROF=DIR: `gimo serve` and `gimo runner` write a V8 CPU profile there when they
 * stop (the runner is then stopped with SIGTERM, not SIGKILL, so that it can write it). The forked
 * children (the embedded server, the pg-boss and graphile-worker workers) take `--cpu-prof` from
 * the bench's own command line instead: `node --cpu-prof --cpu-prof-dir=DIR bench/queue/run.ts`.
 */
const PROFILE_DIR = process.env.GIMO_BENCH_CPU_PROF;
const NODE_FLAGS = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
const EMBEDDED = resolve(import.meta.dirname, "embedded-server.ts");

/** A worker process (a `gimo runner` or a forked pg-boss/graphile-worker) and its start reports. */
export interface Worker {
  pid: number;
  /** Resolves with the handler's start time (ms, wall clock) of the job `id`. */
  started(id: string, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export function trackStarts(child: ChildProcess): Worker["started"] {
  const seen = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  child.on("message", (msg: WorkerMessage) => {
    if (!("started" in msg)) return;
    const resolveWaiter = waiting.get(msg.started);
    if (resolveWaiter) {
      waiting.delete(msg.started);
      resolveWaiter(msg.at);
    } else seen.set(msg.started, msg.at);
  });
  return (id, timeoutMs = 10_000) => {
    const at = seen.get(id);
    if (at !== undefined) {
      seen.delete(id);
      return Promise.resolve(at);
    }
    return new Promise((done, fail) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        fail(new Error(`job ${id} did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (value) => {
        clearTimeout(timer);
        done(value);
      });
    });
  };
}

/** Every child still running, killed if the bench itself is interrupted. */
export const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

export async function stopProcess(child: ChildProcess, how: () => void, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  how();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the first match of `pattern` in the child's stdout; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
  const output: string[] = [];
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not start:\n${output.join("")}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output.push(chunk.toString());
      const m = output.join("").match(pattern);
      if (m) {
        clearTimeout(timer);
        done(m);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output.push(chunk.toString());
      process.stderr.write(`  [${what}] ${chunk}`);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited with ${code}:\n${output.join("")}`));
    });
  });
}

export interface Tokens {
  admin: string;
  operator: string;
  runner: string;
}

export interface GimoServer {
  url: string;
  pid: number;
  tokens: Tokens;
  stop(): Promise<void>;
}

/** The environment of a bench server: its data, its database, fresh tokens, no rate limit. */
function serverEnv(dataDir: string, databaseUrl: string | undefined) {
  const t = () => randomBytes(12).toString("hex");
  const tokens = { admin: `adm_${t()}`, operator: `opr_${t()}`, runner: `run_${t()}` };
  const env: Record<string, string | undefined> = {
    ...process.env,
    GIMO_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ORCH_ADMIN_TOKEN: tokens.admin,
    ORCH_OPERATOR_TOKEN: tokens.operator,
    ORCH_RUNNER_TOKEN: tokens.runner,
    GIMO_EMBEDDED_RUNNERS: "0",
    GIMO_RATE_LIMIT_RPS: "0",
    LOG_LEVEL: "silent",
  };
  if (!databaseUrl) delete env.DATABASE_URL;
  return { env, tokens };
}

export async function startGimoServer(
  dataDir: string,
  databaseUrl: string | undefined,
  repo: string,
): Promise<GimoServer> {
  const { env, tokens } = serverEnv(dataDir, databaseUrl);
  const child = track(
    spawn(process.execPath, [...NODE_FLAGS, CLI, "serve", "--port", "0", "--repo", repo], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const [, url] = await waitForOutput(child, /listening on (http:\/\/\S+)/, "gimo serve");
  return {
    url: url as string,
    pid: child.pid as number,
    tokens,
    stop: () => stopProcess(child, () => child.kill("SIGTERM")),
  };
}

/** A GIMO server whose runner is embedded (embedded-server.ts), started and stopped per phase. */
export interface EmbeddedGimo extends GimoServer {
  startRunner(concurrency: number, reportStarts: boolean): Promise<Worker>;
}

export async function startEmbeddedGimo(
  dataDir: string,
  databaseUrl: string | undefined,
  repo: string,
): Promise<EmbeddedGimo> {
  const { env, tokens } = serverEnv(dataDir, databaseUrl);
  const child = track(fork(EMBEDDED, [repo], { env, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  const reply = <T extends EmbeddedMessage>(what: string, match: (m: EmbeddedMessage) => boolean) =>
    Promise.race([
      new Promise<T>((done) => {
        const onMessage = (m: EmbeddedMessage) => {
          if (!match(m)) return;
          child.off("message", onMessage);
          done(m as T);
        };
        child.on("message", onMessage);
      }),
      once(child, "exit").then(([code]) => {
        throw new Error(`the embedded GIMO server exited (code ${code}) while the bench awaited ${what}`);
      }),
    ]);
  const { url } = await reply<{ url: string }>("its start", (m) => "url" in m);
  const started = trackStarts(child);
  return {
    url,
    pid: child.pid as number,
    tokens,
    stop: () => stopProcess(child, () => child.kill("SIGTERM")),
    async startRunner(concurrency, reportStarts) {
      child.send({ start: concurrency, report: reportStarts } satisfies EmbeddedCommand);
      const m = await reply("its runner", (m) => "ready" in m || "failed" in m);
      if ("failed" in m) throw new Error(`the embedded runner failed to start:\n${m.failed}`);
      return {
        pid: child.pid as number,
        started,
        stop: async () => {
          child.send("stop" satisfies EmbeddedCommand);
          await reply("its runner's stop", (m) => "stopped" in m);
        },
      };
    },
  };
}

/**
 * A `gimo runner` process. `stop()` kills it (SIGKILL) once its work is done: it is idle, and its
 * claim long-poll just ends.
 */
export async function startGimoRunner(server: GimoServer, concurrency: number, reportStarts: boolean) {
  const args = [...NODE_FLAGS, CLI, "runner", "--server", server.url, "--token", server.tokens.runner];
  args.push("--handler", HANDLER, "--concurrency", String(concurrency), "--grace", "2");
  const child = track(
    spawn(process.execPath, args, {
      env: { ...process.env, LOG_LEVEL: "error", BENCH_REPORT_STARTS: reportStarts ? "1" : "0" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    }),
  );
  const started = trackStarts(child);
  await waitForOutput(child, /runner \S+ working for/, "gimo runner");
  return {
    pid: child.pid as number,
    started,
    stop: () => stopProcess(child, () => child.kill(PROFILE_DIR ? "SIGTERM" : "SIGKILL")),
  } satisfies Worker;
}

export async function startForkedWorker(
  kind: WorkerKind,
  pgUrl: string,
  concurrency: number,
  reportStarts: boolean,
): Promise<Worker> {
  const child = track(
    fork(resolve(import.meta.dirname, "worker-child.ts"), [kind], {
      env: {
        ...process.env,
        BENCH_PG_URL: pgUrl,
        BENCH_CONCURRENCY: String(concurrency),
        BENCH_REPORT_STARTS: reportStarts ? "1" : "0",
      },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  const started = trackStarts(child);
  const [msg] = (await Promise.race([
    new Promise<[WorkerMessage]>((done) => {
      const onMessage = (m: WorkerMessage) => {
        if ("started" in m) return;
        child.off("message", onMessage);
        done([m]);
      };
      child.on("message", onMessage);
    }),
    once(child, "exit").then(([code]) => [{ failed: `${kind} worker exited early (code ${code})` }]),
  ])) as [WorkerMessage];
  const stop = () =>
    stopProcess(child, () => {
      if (child.connected) child.send("stop");
      else child.kill("SIGTERM");
    });
  if ("failed" in msg) {
    await stop();
    throw new Error(`${kind} worker failed to start:\n${msg.failed}`);
  }
  return { pid: child.pid as number, started, stop };
}
