import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { adminQuery, createRepo, dbUrl, PG_ADMIN_URL } from "../support.ts";
import { Api, approvedPlans, finishedCounter, gimoCounts, queueRuns } from "./gimo-api.ts";
import { note, rssKib, timeDrain, timePickups } from "./measure.ts";
import {
  children,
  type EmbeddedGimo,
  type GimoServer,
  startEmbeddedGimo,
  startForkedWorker,
  startGimoRunner,
  startGimoServer,
  type Worker,
} from "./processes.ts";
import { type BenchOptions, fmt, GIMO_SYSTEMS, type GimoSystem, type Row, report } from "./report.ts";
import { GRAPHILE_TASK, PGBOSS_QUEUE } from "./workers.ts";

/**
 * GIMO on one database with one kind of runner: embedded in `gimo serve` (the default deployment:
 * the runner calls the services in-process, as pg-boss's and graphile-worker's workers call the
 * database) or a `gimo runner` process speaking the HTTP runner protocol (a runner on another
 * machine: one HTTP round trip more per run).
 */
async function benchGimo(
  system: GimoSystem,
  root: string,
  repo: string,
  databaseUrl: string | undefined,
  opts: BenchOptions,
): Promise<Row> {
  const row: Row = { system, throughput: [], memory: [] };
  const dataDir = join(root, `data-${system.replace("/", "-")}`);
  const embedded = !system.endsWith("/http");
  const server: GimoServer & Partial<EmbeddedGimo> = embedded
    ? await startEmbeddedGimo(dataDir, databaseUrl, repo)
    : await startGimoServer(dataDir, databaseUrl, repo);
  const startRunner = (concurrency: number, reportStarts: boolean): Promise<Worker> =>
    server.startRunner
      ? server.startRunner(concurrency, reportStarts)
      : startGimoRunner(server, concurrency, reportStarts);
  const serverLabel = embedded ? "gimo serve (embedded runner)" : "gimo serve";
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
    row.memory.push({ label: `${serverLabel}, idle after start`, kib: rssKib(server.pid) });

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
          () => startRunner(concurrency, false),
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

    const runner = await startRunner(1, true);
    try {
      await sleep(1_000);
      if (!embedded) row.memory.push({ label: "gimo runner, idle (long-polling)", kib: rssKib(runner.pid) });
      let i = 0;
      row.pickup = await timePickups(runner, opts.samples, async () => {
        const run = await api.call<{ id: string }>("POST", "/ops/runs", {
          approved_id: approved[i++ % approved.length],
          allow_parallel: true,
        });
        return run.id;
      });
      note(`${system} pickup: p50 ${fmt(row.pickup.p50, 2)} ms, p99 ${fmt(row.pickup.p99, 2)} ms`);
    } finally {
      await runner.stop();
    }
    row.memory.push({
      label: `${serverLabel}, idle after ${2 * opts.runs + opts.samples + 10} runs`,
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

// ───────────────────────────── main ─────────────────────────────

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", short: "n", default: "1000" },
      samples: { type: "string", short: "s", default: "150" },
      workers: { type: "string", short: "w", default: "8" },
      only: { type: "string" }, // comma-separated systems, e.g. gimo-sqlite,graphile-worker
    },
  });
  const int = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer >= ${min} (got ${raw})`);
    return n;
  };
  const systems: string[] = [...GIMO_SYSTEMS, "pg-boss", "graphile-worker"];
  const only = values.only?.split(",").map((s) => s.trim());
  const unknown = only?.filter((s) => !systems.includes(s)) ?? [];
  if (unknown.length)
    throw new Error(`--only: unknown ${unknown.join(", ")} (systems: ${systems.join(", ")})`);
  return {
    runs: int("runs", values.runs, 1),
    samples: int("samples", values.samples, 1),
    workers: int("workers", values.workers, 2),
    only,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const root = mkdtempSync(join(tmpdir(), "gimo-bench-queue-"));
  const prefix = `gimo_bench_${randomBytes(6).toString("hex")}`;
  const created: string[] = [];
  const cleanup = async () => {
    rmSync(root, { recursive: true, force: true });
    for (const name of process.env.GIMO_BENCH_KEEP_DATABASES ? [] : created.splice(0)) {
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
    const wanted = (system: string) => !opts.only || opts.only.includes(system);
    if (wanted("gimo-sqlite")) rows.push(await benchGimo("gimo-sqlite", root, repo, undefined, opts));
    if (wanted("gimo-sqlite/http"))
      rows.push(await benchGimo("gimo-sqlite/http", root, repo, undefined, opts));

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
      if (wanted("gimo-postgres"))
        rows.push(await benchGimo("gimo-postgres", root, repo, await database("gimo"), opts));
      if (wanted("gimo-postgres/http"))
        rows.push(await benchGimo("gimo-postgres/http", root, repo, await database("gimo_http"), opts));
      if (wanted("pg-boss")) rows.push(await benchPgBoss(await database("pgboss"), opts));
      if (wanted("graphile-worker")) rows.push(await benchGraphile(await database("graphile"), opts));
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

await main();
