import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fence } from "../src/contract/runner.ts";
import { draftStatuses } from "../src/core/draft-machine.ts";
import { isGimoError } from "../src/core/errors.ts";
import { systemPrincipal } from "../src/core/roles.ts";
import { runStatuses } from "../src/core/run-machine.ts";
import { deriveTaskStatus } from "../src/core/task-status.ts";
import { PROJECT_ADMISSION_LOCK } from "../src/store/advisory-locks.ts";
import type { AttemptEnd, QueueStore } from "../src/store/queue-store.ts";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { commandPlan, eventually, queueRuns } from "./support/runs.ts";

/**
 * The queue behind its port (src/store/queue-store.ts): one conformance suite, the same behaviour
 * tests on both implementations (SQLite in TypeScript, PostgreSQL in src/store/sql/), through the
 * port itself. Then the PostgreSQL task-status derivation against core/task-status.ts.
 */
describe.each(storageKinds())("the queue store on %s (conformance)", (kind) => {
  let g: TestGimo;
  let queue: QueueStore;
  let runnerId: string;
  const who = systemPrincipal;
  beforeAll(async () => {
    g = await startGimo(kind, { retryBaseSeconds: 0, maxAttempts: 2 });
    queue = g.gimo.services.queueStore;
    runnerId = (await g.gimo.services.runners.register(who, { name: `conformance-${kind}` })).runner_id;
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: 50 } });
  });
  afterAll(async () => {
    await g?.close();
  });

  const db = () => g.gimo.services.ctx.store.db;
  const row = (id: string) =>
    db().selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const end = (status: AttemptEnd["status"], error?: AttemptEnd["error"]): AttemptEnd => ({
    status,
    result: null,
    error,
    wait: 0,
  });
  const fenceOf = (claimed: { run: { id: string; attempt: number } }): Fence => ({
    runId: claimed.run.id,
    attempt: claimed.run.attempt,
    runnerId,
  });
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (error) {
      return isGimoError(error) ? error.code : String(error);
    }
    return "no error";
  };
  /** Ends what can be claimed and cancels the rest: each test starts from an empty queue. */
  async function drain() {
    for (let c = await queue.claim(who, runnerId); c; c = await queue.claim(who, runnerId))
      await queue.complete({ principal: who, fence: fenceOf(c), end: end("succeeded"), claimNext: false });
    const left = await db()
      .selectFrom("runs")
      .select("id")
      .where("status", "in", ["queued", "running"])
      .execute();
    for (const { id } of left) await g.gimo.services.runs.cancel(who, id, "drained");
  }

  it("claims the highest priority first, then the oldest; nothing from an empty queue or in panic", async () => {
    await drain();
    expect(await queue.claim(who, runnerId)).toBeUndefined();
    const [low1, low2] = (await queueRuns(g, 2)) as [string, string];
    const [high] = (await queueRuns(g, 1, { priority: 3 })) as [string];
    await g.gimo.services.panic.set(who, true, "conformance");
    expect(await queue.claim(who, runnerId)).toBeUndefined();
    await g.gimo.services.panic.set(who, false, undefined);
    const order: string[] = [];
    for (let c = await queue.claim(who, runnerId); c; c = await queue.claim(who, runnerId)) {
      expect(c.run.status).toBe("running");
      expect(c.run.lease_owner).toBe(runnerId);
      expect(c.approved.content_hash).toMatch(/^sha256:/);
      order.push(c.run.id);
    }
    expect(order).toEqual([high, low1, low2]);
    expect((await row(high)).attempt).toBe(1);
  });

  it("claims no run before its run_after (a retry's backoff), and claims it once that has passed", async () => {
    await drain();
    const [id] = (await queueRuns(g, 1)) as [string];
    const waitUntil = (at: Date) =>
      db().updateTable("runs").set({ run_after: at.toISOString() }).where("id", "=", id).execute();
    await waitUntil(new Date(Date.now() + 3_600_000));
    expect(await queue.claim(who, runnerId)).toBeUndefined();
    await waitUntil(new Date(0));
    const c = await queue.claim(who, runnerId);
    expect(c?.run.id).toBe(id);
    await queue.complete({
      principal: who,
      fence: fenceOf(c as NonNullable<typeof c>),
      end: end("succeeded"),
      claimNext: false,
    });
  });

  // The claim counts a project's running runs twice: without a lock (to skip a full project
  // cheaply), then under the project's admission lock (SQLite: the write transaction; PostgreSQL:
  // an advisory lock). Only claims at once tell the second count apart.
  it("admits at most the project's max_concurrent_runs when runners claim at once", async () => {
    await drain();
    const limit = (n: number) =>
      g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: n } });
    // Runs an earlier test left running (held by its runner) count: the limit is one above them.
    const held = await db()
      .selectFrom("runs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("project_id", "=", g.projectId)
      .where("status", "=", "running")
      .executeTakeFirstOrThrow();
    await limit(Number(held.n) + 1);
    try {
      await queueRuns(g, 4);
      const racers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          g.gimo.services.runners.register(who, { name: `race-${kind}-${i}` }),
        ),
      );
      const claims = await Promise.all(racers.map((r) => queue.claim(who, r.runner_id)));
      expect(claims.filter(Boolean)).toHaveLength(1);
    } finally {
      await limit(50);
      await drain();
    }
  });

  // The executor's limit is counted the same two ways, the second under the executor's own lock
  // (PostgreSQL: an advisory lock on its key). Projects sharing one executor have separate row
  // locks, so only claims at once across several projects tell that second count apart.
  it("admits at most the executor's max_concurrent_runs when runners claim at once across projects", async () => {
    await drain();
    const executor = {
      type: "openai_compat",
      // A key of this test's own: no run of another test holds a slot of it.
      base_url: `http://127.0.0.1:9/v1/limit-${kind}`,
      model: "shared",
      options: { max_concurrent_runs: 1 },
    };
    const projects: string[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await g.request("POST", "/ops/projects", {
        body: {
          name: `shared-executor-${i}`,
          repo_url: `https://example.com/shared-${i}.git`,
          max_concurrent_runs: 10,
          executor,
        },
      });
      expect(created.status).toBe(201);
      projects.push(created.body.id);
      await queueRuns(g, 2, { project: created.body.id });
    }
    try {
      const racers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          g.gimo.services.runners.register(who, { name: `executor-race-${kind}-${i}` }),
        ),
      );
      const claims = (await Promise.all(racers.map((r) => queue.claim(who, r.runner_id)))).filter(
        (c) => c !== undefined,
      );
      expect(claims).toHaveLength(1);
      expect(projects).toContain(claims[0]?.run.project_id);
      expect(claims[0]?.executor).toMatchObject({ model: "shared" });
    } finally {
      await drain();
    }
  });

  // The same re-count, made to matter: walkers in different projects reach the executor's lock
  // together only in a narrow window (the project row locks line them up otherwise), so the test
  // opens it itself. It holds the executor's advisory lock; the first claim walks to project A's
  // run and waits for that lock; A's run is then made to wait (run_after), so the second claim
  // passes it by and waits in project B; the lock is let go. Only the count taken under the lock
  // tells the second claim that the first one took the executor's one slot.
  it.runIf(kind === "postgres")(
    "re-counts the executor's runs under its lock: a claim that waited for it finds the slot taken (PostgreSQL)",
    async () => {
      await drain();
      const baseUrl = "http://127.0.0.1:9/v1/locked-count";
      const key = `openai_compat|${baseUrl}|shared`;
      const executor = {
        type: "openai_compat",
        base_url: baseUrl,
        model: "shared",
        options: { max_concurrent_runs: 1 },
      };
      const runsOf = async (name: string, priority: number) => {
        const created = await g.request("POST", "/ops/projects", {
          body: { name, repo_url: `https://example.com/${name}.git`, max_concurrent_runs: 10, executor },
        });
        expect(created.status).toBe(201);
        return (await queueRuns(g, 1, { project: created.body.id, priority })) as [string];
      };
      const [a] = await runsOf("locked-count-a", 9);
      const [b] = await runsOf("locked-count-b", 8);
      const register = (name: string) => g.gimo.services.runners.register(who, { name });
      const [r1, r2] = await Promise.all([register("locked-count-1"), register("locked-count-2")]);
      const holder = new pg.Client({ connectionString: g.gimo.config.databaseUrl });
      await holder.connect();
      try {
        await holder.query("select pg_advisory_lock(hashtext($1))", [key]);
        const first = queue.claim(who, r1.runner_id);
        await advisoryLockWaiters(holder, 1);
        await holder.query("update runs set run_after = $1 where id = $2", [
          new Date(Date.now() + 3_600_000).toISOString(),
          a,
        ]);
        const second = queue.claim(who, r2.runner_id);
        await advisoryLockWaiters(holder, 2);
        await holder.query("select pg_advisory_unlock(hashtext($1))", [key]);
        const claims = await Promise.all([first, second]);
        expect(claims.map((c) => c?.run.id)).toEqual([a, undefined]);
        expect((await row(b)).status).toBe("queued");
      } finally {
        await holder.query("select pg_advisory_unlock_all()");
        await holder.end();
        await drain();
      }
    },
  );

  // The project is read again under its admission lock, not only counted again: a claim that
  // waited for the lock while an edit lowered the project's limit counts against the new limit.
  // The test holds the admission lock, lets a claim walk up to it, commits the edit, lets go.
  it.runIf(kind === "postgres")(
    "reads the project again under its admission lock: a limit lowered while the claim waited holds (PostgreSQL)",
    async () => {
      await drain();
      const created = await g.request("POST", "/ops/projects", {
        body: { name: "reread-limit", repo_url: "https://example.com/reread.git", max_concurrent_runs: 2 },
      });
      expect(created.status).toBe(201);
      const project = created.body.id as string;
      const limit = (n: number) =>
        g.request("PATCH", `/ops/projects/${project}`, { body: { max_concurrent_runs: n } });
      const [, waiting] = (await queueRuns(g, 2, { project })) as [string, string];
      expect((await queue.claim(who, runnerId))?.run.project_id).toBe(project);
      const holder = new pg.Client({ connectionString: g.gimo.config.databaseUrl });
      await holder.connect();
      const lock = `${PROJECT_ADMISSION_LOCK}, hashtext($1)`;
      try {
        await holder.query(`select pg_advisory_lock(${lock})`, [project]);
        const claim = queue.claim(who, runnerId);
        await advisoryLockWaiters(holder, 1);
        expect((await limit(1)).status).toBe(200);
        await holder.query(`select pg_advisory_unlock(${lock})`, [project]);
        expect(await claim).toBeUndefined();
        expect((await row(waiting)).status).toBe("queued");
      } finally {
        await holder.query("select pg_advisory_unlock_all()");
        await holder.end();
        await limit(10);
        await drain();
      }
    },
  );

  // A queued run whose row another transaction holds (a cancel, a claim being written) is passed
  // over at once (SKIP LOCKED), not waited for: the claim must not queue behind that lock.
  it.runIf(kind === "postgres")(
    "passes over a queued run another transaction holds, without waiting for it (PostgreSQL)",
    async () => {
      await drain();
      const [held, free] = (await queueRuns(g, 2)) as [string, string];
      const holder = new pg.Client({ connectionString: g.gimo.config.databaseUrl });
      await holder.connect();
      try {
        await holder.query("begin");
        await holder.query("select id from runs where id = $1 for update", [held]);
        let timer: NodeJS.Timeout | undefined;
        const blocked = new Promise<"blocked">((resolve) => {
          timer = setTimeout(() => resolve("blocked"), 10_000);
        });
        const claimed = await Promise.race([queue.claim(who, runnerId), blocked]);
        clearTimeout(timer);
        expect(claimed === "blocked" ? "blocked" : claimed?.run.id).toBe(free);
      } finally {
        await holder.query("rollback");
        await holder.end();
        await drain();
      }
    },
  );

  // The walk reads queued runs without a lock, then locks one (SKIP LOCKED) and checks it is
  // still queued: a run another claimer took meanwhile is passed over, not claimed again.
  it("never hands one run to two runners claiming at once", async () => {
    await drain();
    await queueRuns(g, 8);
    const racers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        g.gimo.services.runners.register(who, { name: `twice-${kind}-${i}` }),
      ),
    );
    const claims = await Promise.all(racers.map((r) => queue.claim(who, r.runner_id)));
    const ids = claims.flatMap((c) => (c ? [c.run.id] : []));
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    await drain();
  });

  it("fences every end: another attempt or runner gets lease_lost, an unknown run not_found, and nothing changes", async () => {
    await drain();
    const [id] = (await queueRuns(g, 1)) as [string];
    const c = await queue.claim(who, runnerId);
    expect(c?.run.id).toBe(id);
    const fence = fenceOf(c as NonNullable<typeof c>);
    const ask = (f: Fence) =>
      queue.complete({ principal: who, fence: f, end: end("succeeded"), claimNext: false });
    expect(await failure(ask({ ...fence, attempt: fence.attempt + 1 }))).toBe("lease_lost");
    expect(await failure(ask({ ...fence, runnerId: "rn_01JD0000000000000000000000" }))).toBe("lease_lost");
    expect(await failure(ask({ ...fence, runId: "r_01JD0000000000000000000000" }))).toBe("not_found");
    expect((await row(id)).status).toBe("running");
    expect((await ask(fence)).status).toBe("succeeded");
    expect(await failure(ask(fence))).toBe("lease_lost");
    expect((await row(id)).status).toBe("succeeded");
  });

  it("requeues a retryable failure while attempts remain, then fails it; a plain failure is final", async () => {
    await drain();
    const [id] = (await queueRuns(g, 1)) as [string];
    const infra = { code: "provider_unavailable", message: "down", retryable: true };
    const first = await queue.claim(who, runnerId);
    const r1 = await queue.complete({
      principal: who,
      fence: fenceOf(first as never),
      end: end("failed", infra),
      claimNext: false,
    });
    expect(r1.status).toBe("queued");
    expect((await row(id)).status).toBe("queued");
    const second = await queue.claim(who, runnerId);
    expect(second?.run.attempt).toBe(2);
    const r2 = await queue.complete({
      principal: who,
      fence: fenceOf(second as never),
      end: end("failed", infra),
      claimNext: false,
    });
    expect(r2.status).toBe("failed"); // max_attempts 2: no attempt left
    const task = await db()
      .selectFrom("tasks")
      .select("status")
      .where("id", "=", (await row(id)).task_id)
      .executeTakeFirstOrThrow();
    expect(task.status).toBe("FAILED");
    // A plain failure on the first of two attempts is final all the same.
    const [plain] = (await queueRuns(g, 1)) as [string];
    const third = await queue.claim(who, runnerId);
    expect(third?.run.id).toBe(plain);
    const r3 = await queue.complete({
      principal: who,
      fence: fenceOf(third as never),
      end: end("failed", { code: "tests_failed", message: "red" }),
      claimNext: false,
    });
    expect(r3.status).toBe("failed");
  });

  it("ends a retryable failure of a run whose cancellation was requested as cancelled", async () => {
    await drain();
    const [id] = (await queueRuns(g, 1)) as [string];
    const c = await queue.claim(who, runnerId);
    await g.gimo.services.runs.cancel(who, id, "stop it");
    expect((await row(id)).cancel_requested).toBe(1);
    const r = await queue.complete({
      principal: who,
      fence: fenceOf(c as never),
      end: end("failed", { code: "provider_unavailable", message: "down", retryable: true }),
      claimNext: false,
    });
    expect(r.status).toBe("cancelled");
    expect(JSON.parse((await row(id)).error as string).code).toBe("cancelled");
  });

  it("with claimNext claims the next run for the same runner in the same write", async () => {
    await drain();
    const [a, b] = (await queueRuns(g, 2)) as [string, string];
    const c = await queue.claim(who, runnerId);
    expect(c?.run.id).toBe(a);
    const r = await queue.complete({
      principal: who,
      fence: fenceOf(c as never),
      end: end("succeeded"),
      claimNext: true,
    });
    expect(r.status).toBe("succeeded");
    expect(r.next?.run.id).toBe(b);
    expect(r.next?.run.status).toBe("running");
    expect(r.next?.approved.content_hash).toMatch(/^sha256:/);
    expect(r.startedAt).not.toBeNull();
  });

  it("writes ends that arrive together once each; a stale one among them alone gets lease_lost", async () => {
    await drain();
    const ids = await queueRuns(g, 6);
    const claims = [];
    for (let i = 0; i < ids.length; i++) claims.push(await queue.claim(who, runnerId));
    const fences = claims.map((c) => fenceOf(c as never));
    const stale = { ...(fences[0] as Fence), attempt: 99 };
    const results = await Promise.allSettled(
      [...fences, stale].map((fence) =>
        queue.complete({ principal: who, fence, end: end("succeeded"), claimNext: false }),
      ),
    );
    expect(results.slice(0, 6).every((r) => r.status === "fulfilled" && r.value.status === "succeeded")).toBe(
      true,
    );
    const last = results[6] as PromiseRejectedResult;
    expect(isGimoError(last.reason) && last.reason.code).toBe("lease_lost");
    for (const id of ids) expect((await row(id)).status).toBe("succeeded");
    const ends = await db()
      .selectFrom("events")
      .select("subject")
      .where("type", "=", "run.succeeded")
      .where("subject", "in", ids)
      .execute();
    expect(ends.map((e) => e.subject).sort()).toEqual([...ids].sort());
  });

  it("sweeps an expired lease: back to the queue with attempts left, failed without, cancelled when asked", async () => {
    await drain();
    const [retry, spent, stop] = (await queueRuns(g, 3)) as [string, string, string];
    for (let i = 0; i < 3; i++) await queue.claim(who, runnerId);
    await db().updateTable("runs").set({ attempt: 2 }).where("id", "=", spent).execute();
    await g.gimo.services.runs.cancel(who, stop, "stop it");
    await db()
      .updateTable("runs")
      .set({ lease_expires_at: "2000-01-01T00:00:00.000Z" })
      .where("id", "in", [retry, spent, stop])
      .execute();
    expect(await queue.sweep(who)).toBe(3);
    expect((await row(retry)).status).toBe("queued");
    expect((await row(spent)).status).toBe("failed");
    expect(JSON.parse((await row(spent)).error as string).code).toBe("lease_expired");
    expect((await row(stop)).status).toBe("cancelled");
    expect(await queue.sweep(who)).toBe(0);
  });

  it("gives a runner that uses the executor no agent-step plan while the project has none; command plans it does", async () => {
    await drain();
    const [agentRun] = (await queueRuns(g, 1, { priority: 5 })) as [string];
    const [commandRun] = (await queueRuns(g, 1, { plan: commandPlan() })) as [string];
    const builtin = (
      await g.gimo.services.runners.register(who, { name: `builtin-${kind}`, uses_executor: true })
    ).runner_id;
    // The higher-priority agent run is passed over, not waited on.
    const first = await queue.claim(who, builtin);
    expect(first?.run.id).toBe(commandRun);
    expect(await queue.claim(who, builtin)).toBeUndefined();
    expect((await row(agentRun)).status).toBe("queued");
    // A runner with its own handler is given it; so is the built-in one once an executor exists.
    const [second] = (await queueRuns(g, 1, { priority: 5 })) as [string];
    expect((await queue.claim(who, runnerId))?.run.id).toBe(agentRun);
    const patched = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: { executor: { type: "openai_compat", base_url: "http://127.0.0.1:9/v1", model: "m" } },
    });
    expect(patched.status, patched.text).toBe(200);
    try {
      expect((await queue.claim(who, builtin))?.run.id).toBe(second);
    } finally {
      const stored = await db()
        .selectFrom("projects")
        .select("config")
        .where("id", "=", g.projectId)
        .executeTakeFirstOrThrow();
      const { executor: _, ...config } = JSON.parse(stored.config);
      await db()
        .updateTable("projects")
        .set({ config: JSON.stringify(config) })
        .where("id", "=", g.projectId)
        .execute();
    }
    const listed = await g.request("GET", "/ops/runners", { role: "actions" });
    const views = listed.body.items as { id: string; uses_executor: boolean }[];
    expect(views.find((r) => r.id === builtin)?.uses_executor).toBe(true);
    expect(views.find((r) => r.id === runnerId)?.uses_executor).toBe(false);
  });

  it("refuses an end in panic mode (panic_mode) and changes nothing", async () => {
    await drain();
    const [id] = (await queueRuns(g, 1)) as [string];
    const c = await queue.claim(who, runnerId);
    await g.gimo.services.panic.set(who, true, "conformance");
    try {
      const asked = queue.complete({
        principal: who,
        fence: fenceOf(c as never),
        end: end("succeeded"),
        claimNext: false,
      });
      expect(await failure(asked)).toBe("panic_mode");
      expect((await row(id)).status).toBe("running");
    } finally {
      await g.gimo.services.panic.set(who, false, undefined);
    }
  });
});

describe.runIf(storageKinds().includes("postgres"))("gimo_task_status on postgres", () => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo("postgres");
  });
  afterAll(async () => {
    await g?.close();
  });

  /** Every sequence of run statuses of length 1..max, oldest first. */
  function sequences(max: number): string[][] {
    let level: string[][] = [[]];
    const all: string[][] = [];
    for (let n = 1; n <= max; n++) {
      level = level.flatMap((s) => runStatuses.map((status) => [...s, status]));
      all.push(...level);
    }
    return all;
  }

  it("equals deriveTaskStatus (core/task-status.ts) for every combination of runs, drafts and approval", async () => {
    const db = g.gimo.services.ctx.store.db;
    const [runId] = (await queueRuns(g, 1)) as [string];
    const base = await db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
    const task = await db
      .selectFrom("tasks")
      .selectAll()
      .where("id", "=", base.task_id)
      .executeTakeFirstOrThrow();
    const combos = sequences(3);
    expect(combos).toHaveLength(5 + 25 + 125);
    let checked = 0;
    for (const [k, statuses] of combos.entries()) {
      const taskId = `${task.id}_${k}`;
      await db
        .insertInto("tasks")
        .values({ ...task, id: taskId })
        .execute();
      await db
        .insertInto("runs")
        .values(
          statuses.map((status, i) => ({
            ...base,
            id: `r_${String(k).padStart(4, "0")}_${i}`,
            task_id: taskId,
            status: status as (typeof runStatuses)[number],
          })),
        )
        .execute();
      const { rows } = await sql<{
        status: string | null;
      }>`select gimo_task_status(${taskId}) as status`.execute(db);
      const fromSql = rows[0]?.status;
      const newestFirst = [...statuses].reverse() as (typeof runStatuses)[number][];
      for (const latestDraft of [undefined, ...draftStatuses]) {
        for (const hasApproval of [false, true]) {
          const fromCore = deriveTaskStatus({ latestDraft, hasApproval, runs: newestFirst });
          expect(fromSql, `${statuses.join(",")} draft=${latestDraft} approved=${hasApproval}`).toBe(
            fromCore,
          );
          checked += 1;
        }
      }
    }
    expect(checked).toBe(155 * (draftStatuses.length + 1) * 2);
    // A task without runs: the SQL is never asked (it runs after a run ended) and answers nothing.
    const { rows } = await sql<{
      status: string | null;
    }>`select gimo_task_status('t_none') as status`.execute(db);
    expect(rows[0]?.status).toBeNull();
    // The combinations' rows go, so the harness's checks see only what the app wrote.
    await db.deleteFrom("runs").where("id", "like", "r\\_0%").execute();
    await db.deleteFrom("tasks").where("id", "like", `${task.id}\\_%`).execute();
    await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" });
  });
});

/**
 * Resolves once `n` advisory locks are waited for in the client's own database (other test files
 * run beside it, on databases of their own).
 */
function advisoryLockWaiters(client: pg.Client, n: number) {
  return eventually(async () => {
    const { rows } = await client.query(`select count(*)::int as n from pg_locks
      where locktype = 'advisory' and not granted
        and database = (select oid from pg_database where datname = current_database())`);
    return rows[0].n === n;
  }, 10_000);
}
