/**
 * A pg-boss or graphile-worker worker process for the queue bench (forked by run.ts with the
 * kind as its argument): no-op jobs, one per fetch, reporting each job's start time over IPC.
 */
import { reportStart } from "./handler.ts";

import { GRAPHILE_TASK, PGBOSS_QUEUE, type WorkerKind, type WorkerMessage } from "./workers.ts";

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

await workerChild(process.argv[2] as WorkerKind);
