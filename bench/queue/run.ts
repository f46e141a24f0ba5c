/**
 * Run-queue benchmark: GIMO's durable queue against pg-boss and graphile-worker.
 *
 *   npm run bench:queue -- [--runs 1000] [--samples 150] [--workers 8]
 *
 * What is measured, for GIMO on SQLite and on PostgreSQL, and for pg-boss and graphile-worker on the
 * same PostgreSQL:
 *  - throughput: N no-op runs (jobs) are queued first; then ONE worker process starts with 1, then
 *    with `--workers` concurrent slots, and the clock runs from "worker ready" until every run is
 *    completed (polled every POLL_MS);
 *  - pickup latency: an idle worker (concurrency 1, already waiting for work) and sequential
 *    samples: the time from the enqueue call returning in this process to the handler starting in
 *    the worker process (both read the same wall clock, sub-millisecond);
 *  - memory: VmRSS of an idle `gimo serve` and of an idle `gimo runner` (and of the other workers).
 *
 * Process model (the fairness rule): every server and worker is its own CHILD process, and the bench
 * (this process) only enqueues and watches. GIMO is the real CLI: `gimo serve` (no embedded runners,
 * rate limit off) and ONE `gimo runner --concurrency C --handler bench/queue/handler.ts`, which
 * speaks the HTTP runner protocol. pg-boss and graphile-worker run in ONE forked process each
 * (`--worker pgboss|graphile`) with the same concurrency C, talking to PostgreSQL directly: that is
 * their architecture, as the HTTP hop is GIMO's. Each system gets its own fresh database; the
 * bench creates them and drops them at the end. One job is claimed per fetch everywhere (no batching).
 */
import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { clockMs, reportStart, type StartReport } from "./handler.ts";

const PG_ADMIN_URL = process.env.GIMO_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const CLI = resolve(import.meta.dirname, "../../src/operators/cli/main.ts");
const HANDLER = resolve(import.meta.dirname, "handler.ts");
const PGBOSS_QUEUE = "bench_noop";
const GRAPHILE_TASK = "noop";
/** How often completion is polled during a throughput phase: the end time's resolution. */
const POLL_MS = 25;
/** A throughput phase that has not finished by then, or made no progress for STALL_MS, failed. */
const PHASE_TIMEOUT_MS = 120_000;
const STALL_MS = 15_000;
/** Every API call of the bench gives up after this long (a wedged server fails the bench fast). */
const CALL_TIMEOUT_MS = 30_000;

type System = "gimo-sqlite" | "gimo-postgres" | "pg-boss" | "graphile-worker";
type WorkerKind = "pgboss" | "graphile";

// ───────────────────────────── child: a pg-boss or graphile-worker worker ─────────────────────────────

type WorkerMessage = { ready: true } | { failed: string } | StartReport;

async function workerChild(kind: WorkerKind): Promise<void> {
  const url = process.env.BENCH_PG_URL as string;
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? "1");
  let stop: () => Promise<void>;
  try {
    if (kind === "pgboss") {
      const { PgBoss } = await import("pg-boss");
      // LISTEN/NOTIFY on, so an idle worker is woken by a new job instead of its next poll.
      const boss = new PgBoss({ connectionString: url, useListenNotify: true });
      boss.on("error", (e) => process.stderr.write(`pg-boss worker error: ${e}\n`));
      await boss.start();
      // One job per fetch, like a GIMO claim. `burstWhenReadyExceeds: 1` makes a worker fetch again
      // at once while the queue has a backlog (pg-boss's knob for draining one); without it a
      // worker sleeps between single-job fetches (the notify backstop, 30 s by default).
      await boss.work(
        PGBOSS_QUEUE,
        { batchSize: 1, localConcurrency: concurrency, burstWhenReadyExceeds: 1 },
        async (jobs) => {
          for (const job of jobs) reportStart(job.id);
        },
      );
      stop = () => boss.stop({ graceful: true, timeout: 5_000 });
    } else {
      const { run, Logger } = await import("graphile-worker");
      const runner = await run({
        connectionString: url,
        concurrency,
        noHandleSignals: true,
        logger: new Logger(() => () => {}),
        taskList: {
          [GRAPHILE_TASK]: async (_payload, helpers) => {
            reportStart(String(helpers.job.id));
          },
        },
      });
      stop = () => runner.stop();
    }
  } catch (error) {
    process.send?.({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
  process.send?.({ ready: true } satisfies WorkerMessage);
  process.on("message", async (msg) => {
    if (msg !== "stop") return;
    await stop().catch(() => {});
    process.exit(0);
  });
  process.on("disconnect", () => process.exit(0));
}

// ───────────────────────────── parent: child processes ─────────────────────────────

/** A worker process (a `gimo runner` or a forked pg-boss/graphile-worker) and its start reports. */
interface Worker {
  pid: number;
  /** Resolves with the handler's start time (ms, wall clock) of the job `id`. */
  started(id: string, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

function trackStarts(child: ChildProcess): Worker["started"] {
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
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function stopProcess(child: ChildProcess, how: () => void, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  how();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the first match of `pattern` in the child's stdout; rejects if it exits first. */
function waitForOutput(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
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

interface Tokens {
  admin: string;
  operator: string;
  runner: string;
}

interface GimoServer {
  url: string;
  pid: number;
  tokens: Tokens;
  stop(): Promise<void>;
}

async function startGimoServer(
  dataDir: string,
  databaseUrl: string | undefined,
  repo: string,
): Promise<GimoServer> {
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
  const child = track(
    spawn(process.execPath, [CLI, "serve", "--port", "0", "--repo", repo], {
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

/**
 * A `gimo runner` process. `stop()` kills it (SIGKILL) once its work is done: its claim long-poll
 * just ends. (A graceful SIGTERM stop is correct too, but the process then lingers for --grace + 5 s
 * on a timer left behind in Runner.stop, which would only stretch the bench.)
 */
async function startGimoRunner(server: GimoServer, concurrency: number, reportStarts: boolean) {
  const args = [CLI, "runner", "--server", server.url, "--token", server.tokens.runner];
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
    stop: () => stopProcess(child, () => child.kill("SIGKILL")),
  } satisfies Worker;
}

async function startForkedWorker(
  kind: WorkerKind,
  pgUrl: string,
  concurrency: number,
  reportStarts: boolean,
): Promise<Worker> {
  const child = track(
    fork(import.meta.filename, ["--worker", kind], {
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

// ───────────────────────────── parent: GIMO over its API ─────────────────────────────

class Api {
  readonly url: string;
  readonly #tokens: Tokens;

  constructor(server: GimoServer) {
    this.url = server.url;
    this.#tokens = server.tokens;
  }

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { as?: keyof Tokens; expect?: number } = {},
  ): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#tokens[opts.as ?? "operator"]}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    }).catch((error: unknown) => {
      throw new Error(`${method} ${path}: no answer from the GIMO server (${String(error)})`, {
        cause: error,
      });
    });
    const text = await res.text();
    const expect = opts.expect ?? (method === "POST" ? 201 : 200);
    if (res.status !== expect)
      throw new Error(`${method} ${path} → ${res.status} (expected ${expect}): ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

const plan = {
  title: "No-op",
  summary: "A run that does nothing: the queue bench.",
  steps: [{ id: "s1", kind: "agent", title: "Nothing", instructions: "Do nothing" }],
  acceptance: ["Nothing changed"],
  risk: "low",
};

/** Approved plans to queue runs from (draft → approve, no auto-run). */
async function approvedPlans(api: Api, count: number): Promise<string[]> {
  return parallel(count, 4, async () => {
    const draft = await api.call<{ id: string }>("POST", "/ops/drafts", { prompt: "Do nothing", plan });
    const res = await api.call<{ approved: { id: string } }>("POST", `/ops/drafts/${draft.id}/approve`, {
      auto_run: false,
    });
    return res.approved.id;
  });
}

/** Queues `count` runs with `POST /ops/runs`, round-robin over `approved`; returns their ids. */
async function queueRuns(api: Api, approved: string[], count: number, concurrency = 8): Promise<string[]> {
  return parallel(count, concurrency, async (i) => {
    const run = await api.call<{ id: string }>("POST", "/ops/runs", {
      approved_id: approved[i % approved.length],
    });
    return run.id;
  });
}

async function parallel<T>(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await work(i);
      }
    }),
  );
  return out;
}

type RunCounts = Record<"queued" | "running" | "succeeded" | "failed" | "cancelled", number>;

async function gimoCounts(api: Api): Promise<RunCounts> {
  return (await api.call<{ runs: RunCounts }>("GET", "/ops/metrics")).runs;
}

/**
 * Finished runs, counted straight in GIMO's database during a throughput phase: one indexed count
 * per poll, like the pg-boss and graphile-worker phases, instead of `GET /ops/metrics` (five
 * queries, some scanning every run), which would load the server under test.
 */
interface FinishedCounter {
  count(): Promise<{ succeeded: number; failed: number }>;
  close(): Promise<void>;
}

const FINISHED_SQL =
  "select status, count(*) as n from runs where status in ('succeeded', 'failed') group by status";

function tally(rows: { status: string; n: number | string }[]) {
  const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return { succeeded: n("succeeded"), failed: n("failed") };
}

async function finishedCounter(dataDir: string, databaseUrl: string | undefined): Promise<FinishedCounter> {
  if (databaseUrl) {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    return {
      count: async () => tally((await db.query<{ status: string; n: string }>(FINISHED_SQL)).rows),
      close: () => db.end(),
    };
  }
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(join(dataDir, "gimo.sqlite"), { readOnly: true, timeout: 5_000 });
  const statement = db.prepare(FINISHED_SQL);
  return {
    count: async () => tally(statement.all() as { status: string; n: number }[]),
    close: async () => db.close(),
  };
}

// ───────────────────────────── measurements ─────────────────────────────

interface Throughput {
  concurrency: number;
  jobs: number;
  seconds: number;
  perSecond: number;
  problems: string[];
}

interface Pickup {
  samples: number[];
  p50: number;
  p90: number;
  p99: number;
  max: number;
  problems: string[];
}

interface Row {
  system: System;
  throughput: Throughput[];
  pickup?: Pickup;
  memory: { label: string; kib: number }[];
}

/**
 * Starts a worker on an already-filled queue and times it until `done()` says every job finished.
 * `done` is polled every POLL_MS; the start is the moment the worker process says it is ready.
 */
async function timeDrain(
  jobs: number,
  concurrency: number,
  startWorker: () => Promise<Worker>,
  progress: () => Promise<{ finished: number; failed: number }>,
): Promise<Throughput> {
  const worker = await startWorker();
  const t0 = performance.now();
  const problems: string[] = [];
  let state = { finished: 0, failed: 0 };
  let seconds: number;
  let lastProgress = t0;
  try {
    for (;;) {
      const before = state.finished + state.failed;
      state = await progress();
      const now = performance.now();
      if (state.finished + state.failed >= jobs) break;
      if (state.finished + state.failed > before) lastProgress = now;
      if (now - t0 > PHASE_TIMEOUT_MS || now - lastProgress > STALL_MS) {
        const why = now - t0 > PHASE_TIMEOUT_MS ? "timed out" : `stalled for ${STALL_MS / 1000} s`;
        problems.push(`${why} with ${state.finished}/${jobs} done`);
        break;
      }
      await sleep(POLL_MS);
    }
    seconds = (performance.now() - t0) / 1000;
  } finally {
    await worker.stop();
  }
  if (state.failed > 0) problems.push(`${state.failed} jobs failed`);
  return { concurrency, jobs, seconds, perSecond: state.finished / seconds, problems };
}

/**
 * Sequential pickup samples on an idle worker: enqueue, wait for the handler to start, pause (so the
 * worker finishes and is back to waiting), repeat. The first `warmup` samples are not counted.
 */
async function timePickups(
  worker: Worker,
  samples: number,
  enqueue: () => Promise<string>,
  warmup = 10,
): Promise<Pickup> {
  const times: number[] = [];
  const problems: string[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    await sleep(40 + Math.random() * 40);
    const id = await enqueue();
    const enqueued = clockMs();
    try {
      const started = await worker.started(id);
      if (i >= warmup) times.push(started - enqueued);
    } catch (error) {
      problems.push(String(error));
      if (problems.length > 3) break;
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    samples: times,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    problems,
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** Resident set size of a process, in KiB (Linux: VmRSS of /proc/<pid>/status). */
function rssKib(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const benchStart = performance.now();

function note(msg: string): void {
  process.stderr.write(`  [${fmt((performance.now() - benchStart) / 1000, 1).padStart(5)} s] ${msg}\n`);
}

async function benchGimo(
  system: "gimo-sqlite" | "gimo-postgres",
  root: string,
  repo: string,
  databaseUrl: string | undefined,
  opts: BenchOptions,
): Promise<Row> {
  const row: Row = { system, throughput: [], memory: [] };
  const dataDir = join(root, `data-${system}`);
  const server = await startGimoServer(dataDir, databaseUrl, repo);
  note(`${system}: server up`);
  try {
    const api = new Api(server);
    // A few requests, then the idle footprint.
    await api.call("GET", "/health");
    await api.call("GET", "/status");
    const projects = await api.call<{ items: { id: string }[] }>("GET", "/ops/projects");
    const project = projects.items[0]?.id;
    if (!project) throw new Error("gimo serve --repo registered no project");
    await api.call("PATCH", `/ops/projects/${project}`, { max_concurrent_runs: 100 }, { as: "admin" });
    await api.call("GET", "/ops/runs?limit=10");
    await sleep(1_000);
    row.memory.push({ label: "gimo serve, idle after start", kib: rssKib(server.pid) });

    // Each approved plan (and so each task) gets ~5 runs, the same for every phase.
    const approved = await approvedPlans(api, Math.max(1, Math.ceil(opts.runs / 5)));
    note(`${system}: ${approved.length} approved plans`);
    const finished = await finishedCounter(dataDir, databaseUrl);
    try {
      for (const concurrency of [1, opts.workers]) {
        await queueRuns(api, approved, opts.runs);
        const counts = await gimoCounts(api);
        if (counts.queued !== opts.runs)
          throw new Error(`expected ${opts.runs} queued, got ${counts.queued}`);
        note(`${system}: ${opts.runs} runs queued`);
        const from = counts.succeeded;
        const result = await timeDrain(
          opts.runs,
          concurrency,
          () => startGimoRunner(server, concurrency, false),
          async () => {
            const c = await finished.count();
            return { finished: c.succeeded - from, failed: c.failed };
          },
        );
        row.throughput.push(result);
        note(`${system} throughput, ${concurrency} slot(s): ${fmt(result.perSecond, 0)} runs/s`);
      }
    } finally {
      await finished.close();
    }

    const runner = await startGimoRunner(server, 1, true);
    try {
      await sleep(1_000);
      row.memory.push({ label: "gimo runner, idle (long-polling)", kib: rssKib(runner.pid) });
      let i = 0;
      row.pickup = await timePickups(runner, opts.samples, async () => {
        const run = await api.call<{ id: string }>("POST", "/ops/runs", {
          approved_id: approved[i++ % approved.length],
        });
        return run.id;
      });
      note(`${system} pickup: p50 ${fmt(row.pickup.p50, 2)} ms, p99 ${fmt(row.pickup.p99, 2)} ms`);
    } finally {
      await runner.stop();
    }
    row.memory.push({
      label: `gimo serve, idle after ${2 * opts.runs + opts.samples + 10} runs`,
      kib: rssKib(server.pid),
    });
  } finally {
    await server.stop();
  }
  return row;
}

async function benchPgBoss(pgUrl: string, opts: BenchOptions): Promise<Row> {
  const { PgBoss } = await import("pg-boss");
  const row: Row = { system: "pg-boss", throughput: [], memory: [] };
  // The producer: this process. Maintenance and cron belong to the worker's instance.
  const boss = new PgBoss({ connectionString: pgUrl, supervise: false, schedule: false });
  boss.on("error", (e) => process.stderr.write(`pg-boss producer error: ${e}\n`));
  await boss.start();
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  try {
    await boss.createQueue(PGBOSS_QUEUE, { notify: true });
    const completed = async () => {
      const { rows } = await db.query<{ state: string; n: number }>(
        "select state, count(*)::int as n from pgboss.job where name = $1 group by state",
        [PGBOSS_QUEUE],
      );
      const n = (s: string) => rows.find((r) => r.state === s)?.n ?? 0;
      return { completed: n("completed"), failed: n("failed") };
    };
    let base = 0;
    for (const concurrency of [1, opts.workers]) {
      await boss.insert(
        PGBOSS_QUEUE,
        Array.from({ length: opts.runs }, () => ({ data: {} })),
      );
      // Refresh the queue's cached counts, which the worker's burst mode reads at its start.
      await boss.supervise(PGBOSS_QUEUE);
      const from = base;
      const result = await timeDrain(
        opts.runs,
        concurrency,
        () => startForkedWorker("pgboss", pgUrl, concurrency, false),
        async () => {
          const c = await completed();
          return { finished: c.completed - from, failed: c.failed };
        },
      );
      base = (await completed()).completed;
      row.throughput.push(result);
      note(`pg-boss throughput, ${concurrency} slot(s): ${fmt(result.perSecond, 0)} jobs/s`);
    }
    const worker = await startForkedWorker("pgboss", pgUrl, 1, true);
    try {
      await sleep(1_000);
      row.memory.push({ label: "pg-boss worker, idle", kib: rssKib(worker.pid) });
      row.pickup = await timePickups(worker, opts.samples, async () => {
        const id = await boss.send(PGBOSS_QUEUE, {});
        if (!id) throw new Error("pg-boss send returned no id");
        return id;
      });
      note(`pg-boss pickup: p50 ${fmt(row.pickup.p50, 2)} ms, p99 ${fmt(row.pickup.p99, 2)} ms`);
    } finally {
      await worker.stop();
    }
  } finally {
    await db.end().catch(() => {});
    await boss.stop({ graceful: false }).catch(() => {});
  }
  return row;
}

async function benchGraphile(pgUrl: string, opts: BenchOptions): Promise<Row> {
  const { makeWorkerUtils, Logger } = await import("graphile-worker");
  const row: Row = { system: "graphile-worker", throughput: [], memory: [] };
  const utils = await makeWorkerUtils({ connectionString: pgUrl, logger: new Logger(() => () => {}) });
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  try {
    await utils.migrate();
    // Completed jobs are deleted; failed ones stay with their last_error.
    const remaining = async () => {
      const { rows } = await db.query<{ n: number; failed: number }>(
        "select count(*)::int as n, count(*) filter (where last_error is not null)::int as failed from graphile_worker._private_jobs",
      );
      return rows[0] ?? { n: 0, failed: 0 };
    };
    for (const concurrency of [1, opts.workers]) {
      await utils.addJobs(
        Array.from({ length: opts.runs }, () => ({ identifier: GRAPHILE_TASK, payload: {} })),
      );
      const result = await timeDrain(
        opts.runs,
        concurrency,
        () => startForkedWorker("graphile", pgUrl, concurrency, false),
        async () => {
          const r = await remaining();
          return { finished: opts.runs - r.n, failed: r.failed };
        },
      );
      row.throughput.push(result);
      note(`graphile-worker throughput, ${concurrency} slot(s): ${fmt(result.perSecond, 0)} jobs/s`);
    }
    const worker = await startForkedWorker("graphile", pgUrl, 1, true);
    try {
      await sleep(1_000);
      row.memory.push({ label: "graphile-worker worker, idle", kib: rssKib(worker.pid) });
      row.pickup = await timePickups(worker, opts.samples, async () => {
        const job = await utils.addJob(GRAPHILE_TASK, {});
        return String(job.id);
      });
      note(`graphile-worker pickup: p50 ${fmt(row.pickup.p50, 2)} ms, p99 ${fmt(row.pickup.p99, 2)} ms`);
    } finally {
      await worker.stop();
    }
  } finally {
    await db.end().catch(() => {});
    await utils.release();
  }
  return row;
}

// ───────────────────────────── report ─────────────────────────────

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? `${fmt(a / b, 2)}×`
    : "n/a";
}

function report(rows: Row[], opts: BenchOptions, loadAtStart: number): boolean {
  const out: string[] = [];
  const bySystem = (s: System) => rows.find((r) => r.system === s);
  const tput = (r: Row | undefined, c: number) => r?.throughput.find((t) => t.concurrency === c)?.perSecond;
  const w = 16;
  out.push("");
  out.push(
    `GIMO queue bench — ${opts.runs} pre-queued no-op runs per throughput phase, ${opts.samples} pickup samples, node ${process.version}, ${availableParallelism()} CPUs`,
  );
  out.push(
    `load average (1 min): ${fmt(loadAtStart, 2)} at the start, ${fmt(loadavg()[0] ?? Number.NaN, 2)} at the end — other work on the machine skews every figure`,
  );
  out.push("");
  out.push("throughput: runs (jobs) claimed and completed per second; one worker process with C slots");
  out.push(`${"system".padEnd(w)}  ${"C=1".padStart(8)}  ${`C=${opts.workers}`.padStart(8)}`);
  for (const r of rows) {
    const flag = r.throughput.flatMap((t) => t.problems);
    out.push(
      `${r.system.padEnd(w)}  ${fmt(tput(r, 1) ?? Number.NaN, 0).padStart(8)}  ${fmt(tput(r, opts.workers) ?? Number.NaN, 0).padStart(8)}${flag.length ? `  !! ${flag.join("; ")}` : ""}`,
    );
  }
  out.push("");
  out.push("pickup latency, ms: enqueue call returned → handler started, idle worker (concurrency 1)");
  out.push(
    `${"system".padEnd(w)}  ${"p50".padStart(7)}  ${"p90".padStart(7)}  ${"p99".padStart(7)}  ${"max".padStart(7)}  ${"n".padStart(4)}`,
  );
  for (const r of rows) {
    const p = r.pickup;
    if (!p) continue;
    out.push(
      `${r.system.padEnd(w)}  ${fmt(p.p50, 2).padStart(7)}  ${fmt(p.p90, 2).padStart(7)}  ${fmt(p.p99, 2).padStart(7)}  ${fmt(p.max, 2).padStart(7)}  ${String(p.samples.length).padStart(4)}${p.problems.length ? `  !! ${p.problems.join("; ")}` : ""}`,
    );
  }
  out.push("");
  out.push("memory (VmRSS)");
  for (const r of rows)
    for (const m of r.memory) out.push(`  ${m.label.padEnd(44)} ${fmt(m.kib / 1024, 1).padStart(7)} MiB`);

  const others = (["pg-boss", "graphile-worker"] as const).filter((s) => bySystem(s));
  const gimos = (["gimo-postgres", "gimo-sqlite"] as const).filter((s) => bySystem(s));
  if (others.length > 0) {
    out.push("");
    out.push("GIMO against the others (throughput: higher is better; pickup: lower is better)");
    for (const g of gimos) {
      const gr = bySystem(g);
      for (const o of others) {
        const or = bySystem(o);
        out.push(
          `  ${g.padEnd(13)} throughput ${ratio(tput(gr, 1), tput(or, 1))} ${o} (C=1), ${ratio(tput(gr, opts.workers), tput(or, opts.workers))} ${o} (C=${opts.workers}); pickup p50 ${ratio(gr?.pickup?.p50, or?.pickup?.p50)} ${o}, p99 ${ratio(gr?.pickup?.p99, or?.pickup?.p99)} ${o}`,
        );
      }
    }
  }

  out.push("");
  out.push("targets");
  const mark = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "met" : "NOT met");
  for (const g of gimos) {
    const p50 = bySystem(g)?.pickup?.p50;
    out.push(
      `  ${g.padEnd(13)} pickup p50 < 20 ms: ${mark(p50 === undefined ? undefined : p50 < 20)} (${fmt(p50 ?? Number.NaN, 2)} ms)`,
    );
  }
  const boss = bySystem("pg-boss");
  for (const g of gimos) {
    for (const c of [1, opts.workers]) {
      const mine = tput(bySystem(g), c);
      const theirs = tput(boss, c);
      const ok = mine === undefined || theirs === undefined ? undefined : mine >= theirs;
      out.push(
        `  ${g.padEnd(13)} throughput ≥ pg-boss at C=${c}: ${mark(ok)} (${fmt(mine ?? Number.NaN, 0)} vs ${fmt(theirs ?? Number.NaN, 0)}/s)`,
      );
    }
  }
  out.push("");
  process.stdout.write(`${out.join("\n")}\n`);
  return rows.some(
    (r) => r.throughput.some((t) => t.problems.length > 0) || (r.pickup?.problems.length ?? 0) > 0,
  );
}

// ───────────────────────────── main ─────────────────────────────

interface BenchOptions {
  runs: number;
  samples: number;
  workers: number;
}

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", short: "n", default: "1000" },
      samples: { type: "string", short: "s", default: "150" },
      workers: { type: "string", short: "w", default: "8" },
    },
  });
  const int = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer >= ${min} (got ${raw})`);
    return n;
  };
  return {
    runs: int("runs", values.runs, 1),
    samples: int("samples", values.samples, 1),
    workers: int("workers", values.workers, 2),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

function dbUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A throwaway git repository with one commit on `main`: GIMO's default project. */
function createRepo(root: string): string {
  const path = join(root, "repo");
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "Bench",
    GIT_AUTHOR_EMAIL: "bench@example.com",
    GIT_COMMITTER_NAME: "Bench",
    GIT_COMMITTER_EMAIL: "bench@example.com",
  };
  execFileSync("git", ["init", "-q", "-b", "main", path], { env });
  writeFileSync(join(path, "README.md"), "# bench\n");
  execFileSync("git", ["-C", path, "add", "."], { env });
  execFileSync("git", ["-C", path, "commit", "-q", "-m", "initial commit"], { env });
  return path;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const root = mkdtempSync(join(tmpdir(), "gimo-bench-queue-"));
  const prefix = `gimo_bench_${randomBytes(6).toString("hex")}`;
  const created: string[] = [];
  const cleanup = async () => {
    rmSync(root, { recursive: true, force: true });
    for (const name of created.splice(0)) {
      await adminQuery(`drop database if exists ${name} with (force)`).catch((e) =>
        process.stderr.write(`could not drop ${name}: ${e}\n`),
      );
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const child of children) child.kill("SIGKILL");
      void cleanup().finally(() => process.exit(130));
    });
  }

  let failed = false;
  try {
    const repo = createRepo(root);
    process.stderr.write(
      `measuring (${opts.runs} runs per throughput phase, ${opts.samples} pickup samples)…\n`,
    );
    const rows: Row[] = [];
    rows.push(await benchGimo("gimo-sqlite", root, repo, undefined, opts));

    let pgOk = true;
    try {
      await adminQuery("select 1");
    } catch (error) {
      pgOk = false;
      process.stderr.write(`!! PostgreSQL at ${PG_ADMIN_URL} unavailable, skipping it: ${error}\n`);
    }
    if (pgOk) {
      const database = async (suffix: string) => {
        const name = `${prefix}_${suffix}`;
        await adminQuery(`create database ${name}`);
        created.push(name);
        return dbUrl(name);
      };
      rows.push(await benchGimo("gimo-postgres", root, repo, await database("gimo"), opts));
      rows.push(await benchPgBoss(await database("pgboss"), opts));
      rows.push(await benchGraphile(await database("graphile"), opts));
    }
    failed = report(rows, opts, loadAtStart);
  } finally {
    await cleanup();
  }
  if (failed) {
    process.stderr.write("some measurements saw errors (marked !!): figures are suspect\n");
    process.exitCode = 1;
  }
}

// Dispatch last, so every module-level constant above is initialised before it is used.
if (process.argv[2] === "--worker") {
  await workerChild(process.argv[3] as WorkerKind);
} else {
  await main();
}
