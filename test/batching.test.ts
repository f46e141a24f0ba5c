import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../src/core/roles.ts";
import { systemPrincipal } from "../src/core/roles.ts";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { eventually, queueRuns } from "./support/runs.ts";

// The batching logic is unit-tested in src/store/batcher.test.ts; this checks it on a real
// PostgreSQL: grouped writes do share a transaction (SQLite has no transaction id to compare), and
// ends of runs reported at once go in one call of gimo_complete_many, each with its own answer.
describe.each(storageKinds().filter((k) => k === "postgres"))("batching on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: 50 } });
  });
  afterAll(async () => {
    await g?.close();
  });
  /** How many batches of ends were written in one statement so far (gimo_run_end_batch_size). */
  const batches = async () => {
    const text = await g.gimo.services.prometheus.text();
    return Number(text.match(/^gimo_run_end_batch_size_count (\d+)/m)?.[1] ?? 0);
  };

  it("writes that arrive while one is committing share the next transaction", async () => {
    const store = g.gimo.services.ctx.store;
    const transactionId = (before?: Promise<void>) =>
      store.write(
        systemPrincipal,
        async (w) => {
          await before;
          const { rows } = await sql<{ id: string }>`select txid_current()::text as id`.execute(w.tx);
          return rows[0]?.id;
        },
        { group: true },
      );
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = transactionId(gate);
    const waiting = [transactionId(), transactionId(), transactionId()];
    open();
    const [alone, ...grouped] = await Promise.all([first, ...waiting]);
    expect(alone).toMatch(/^\d+$/);
    expect(new Set(grouped)).toEqual(new Set([grouped[0]]));
    expect(grouped[0]).not.toBe(alone);
  });

  it("ends of runs reported at once go in one statement, each with its own answer", async () => {
    const { runners, queue, reports } = g.gimo.services;
    const runner: Principal = { actor: "batch-test", role: "runner", tokenId: null };
    const { runner_id: runnerId } = await runners.register(runner, { name: "batch" });
    const ids = await queueRuns(g, 9);
    for (const id of ids.slice(0, 6)) expect((await queue.claim(runner, runnerId))?.run.id).toBe(id);
    const before = await batches();
    const fence = (id: string, attempt = 1) => ({ runId: id, attempt, runnerId });
    const [a, b, c, d, e, f] = ids as [string, string, string, string, string, string];
    // Called in one tick: the first end is written alone at once, the rest wait for it and then go
    // together — among them a stale attempt and an unknown run, which must fail alone.
    const ends = await Promise.allSettled([
      reports.complete(runner, fence(a), { status: "succeeded" }),
      reports.complete(runner, fence(b), { status: "succeeded" }, { claimNext: true }),
      reports.complete(runner, fence(c, 2), { status: "succeeded" }),
      reports.complete(runner, fence("r_01ZZZZZZZZZZZZZZZZZZZZZZZZ"), { status: "succeeded" }),
      reports.complete(runner, fence(d), { status: "failed", error: { code: "x", message: "no" } }),
      reports.complete(runner, fence(e), { status: "succeeded" }, { claimNext: true }),
      reports.complete(
        runner,
        fence(f),
        { status: "failed", error: { code: "flaky", message: "retry me", retryable: true } },
        { claimNext: true },
      ),
    ]);
    expect(await batches()).toBe(before + 1);
    const value = (i: number) =>
      (ends[i] as PromiseFulfilledResult<{ status: string; next?: unknown }>).value;
    const reason = (i: number) => (ends[i] as PromiseRejectedResult).reason as { code?: string };
    expect(value(0).status).toBe("succeeded");
    expect(reason(2).code).toBe("lease_lost");
    expect(reason(3).code).toBe("not_found");
    expect(value(4).status).toBe("failed");
    expect(value(6).status).toBe("queued"); // retryable, attempts left: back to the queue
    // The two claims of the batch took the next two queued runs, in order, one each.
    const claimed = [value(1).next, value(5).next].map((n) => (n as { run: { id: string } }).run.id);
    expect(claimed).toEqual([ids[6], ids[7]]);
    const runOf = async (id: string) => (await g.request("GET", `/ops/runs/${id}`, { role: "actions" })).body;
    expect((await runOf(c)).status).toBe("running"); // the stale end changed nothing
    expect((await runOf(b)).status).toBe("succeeded");
    expect((await runOf(ids[6] as string)).status).toBe("running");
    const audit = await g.request("GET", "/ops/audit/verify");
    expect(audit.body).toMatchObject({ ok: true });
  });

  it("a batch that would wait on a lock gives up and writes each end alone, all of them landing", async () => {
    const { runners, queue, reports } = g.gimo.services;
    const runner: Principal = { actor: "batch-lock-test", role: "runner", tokenId: null };
    const { runner_id: runnerId } = await runners.register(runner, { name: "batch-lock" });
    const ids = await queueRuns(g, 4);
    for (const id of ids) expect((await queue.claim(runner, runnerId))?.run.id).toBe(id);
    const taskOf = async (id: string) =>
      (await g.request("GET", `/ops/runs/${id}`, { role: "actions" })).body.task_id as string;
    // Another transaction holds the task row of the last run's task, as a cancel of it would.
    const other = new pg.Client({ connectionString: g.gimo.config.databaseUrl });
    await other.connect();
    try {
      await other.query("begin");
      await other.query("select 1 from tasks where id = $1 for update", [await taskOf(ids[3] as string)]);
      const before = await batches();
      let landed = 0;
      const ends = ids.map((id) =>
        reports.complete(runner, { runId: id, attempt: 1, runnerId }, { status: "succeeded" }).then((end) => {
          landed++;
          return end;
        }),
      );
      // The first end went alone; the batch of the other three gives up on the lock after 100 ms
      // and each of them is written alone: two land, the third waits for the lock like any write.
      // (Waits for those three, not a fixed time: on a loaded machine the batch may start late.)
      await eventually(async () => landed === 3, 30_000);
      await other.query("commit");
      const settled = await Promise.all(ends);
      expect(settled.map((e) => e.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
      expect(await batches()).toBe(before); // no batch committed
    } finally {
      await other.end();
    }
    const audit = await g.request("GET", "/ops/audit/verify");
    expect(audit.body).toMatchObject({ ok: true });
  });
});
