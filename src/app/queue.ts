import { sql, type Transaction } from "kysely";
import type { Approved } from "../contract/approved.ts";
import type { Project, ProjectConfig } from "../contract/project.ts";
import type { Run } from "../contract/run.ts";
import { backoffSeconds } from "../core/backoff.ts";
import { isoAfter } from "../core/clock.ts";
import type { Principal } from "../core/roles.ts";
import type { ProviderConfig } from "../llm/config.ts";
import { toApproved, toProject, toRun } from "../store/rows.ts";
import type { Database, RunsTable } from "../store/schema.ts";
import { readPanic } from "../store/settings.ts";
import type { Write } from "../store/store.ts";
import type { AppContext } from "./context.ts";
import type { PrometheusMetrics } from "./prometheus.ts";
import { refreshTaskStatus } from "./tasks.ts";

/**
 * The durable run queue: claiming and sweeping.
 *
 * A run is claimable when it is `queued`, its `run_after` has passed, every run it `depends_on`
 * has `succeeded`, panic mode is off, and its project has fewer than `max_concurrent_runs` running.
 * Among claimable runs the highest `priority` goes first, then the oldest.
 *
 * A claim is one transaction. On PostgreSQL candidates are locked `FOR UPDATE SKIP LOCKED` (two
 * runners never wait on, or get, the same run) and the project row is locked while its running
 * runs are counted, so admission cannot be overrun by concurrent claims. On SQLite the transaction
 * is IMMEDIATE: claims are serialised by the write lock. The claim moves the run to `running`,
 * increments `attempt` — the fencing token every later runner call must present — and sets the
 * lease owner and expiry.
 *
 * The sweeper finds running runs whose lease expired: with attempts left they go back to `queued`
 * after a jittered backoff; without, they fail with `lease_expired`. It runs at server start too,
 * which recovers the runs left behind while the server was down.
 */
export interface ClaimedRun {
  run: Run;
  approved: Approved;
  project: Project;
  lease_seconds: number;
  /** The executor model for this run, as clients see it: `${VAR}` references, never values. */
  executor: ProviderConfig | null;
}

/** Looks up the executor configuration a run should use (the project's, else the server's). */
export type ExecutorConfigLookup = (
  projectOverride: ProviderConfig | undefined,
  tx: Transaction<Database>,
) => Promise<ProviderConfig | null>;

const CANDIDATES = 16;
const PROVIDER_DEFAULT_CONCURRENCY = 4;

export class QueueService {
  readonly #ctx: AppContext;
  readonly #prometheus: PrometheusMetrics;

  readonly #executorConfig: ExecutorConfigLookup;

  constructor(ctx: AppContext, prometheus: PrometheusMetrics, executorConfig: ExecutorConfigLookup) {
    this.#ctx = ctx;
    this.#prometheus = prometheus;
    this.#executorConfig = executorConfig;
  }

  async claim(principal: Principal, runnerId: string): Promise<ClaimedRun | undefined> {
    const { store, config } = this.#ctx;
    return store.write(
      principal,
      async (w) => {
        if ((await readPanic(w.tx)).on) return undefined;
        for (const candidate of await this.#candidates(w)) {
          if (!(await this.#admits(w.tx, candidate.project_id))) continue;
          const provider = await this.#providerSlot(w.tx, candidate.project_id);
          if (provider === false) continue;
          const run = await w.tx
            .updateTable("runs")
            .set((eb) => ({
              status: "running",
              attempt: eb("attempt", "+", 1),
              lease_owner: runnerId,
              lease_expires_at: isoAfter(this.#ctx.clock, config.leaseSeconds),
              cancel_requested: 0,
              provider_key: provider,
              started_at: eb.fn.coalesce("started_at", eb.val(w.now)),
              updated_at: w.now,
            }))
            .where("id", "=", candidate.id)
            .where("status", "=", "queued")
            .returningAll()
            .executeTakeFirst();
          if (!run) continue;
          w.emit("run.started", run.id, { task_id: run.task_id, attempt: run.attempt, runner_id: runnerId });
          this.#prometheus.claims.inc();
          return this.#withContext(w.tx, run);
        }
        return undefined;
      },
      { allowInPanic: true },
    );
  }

  async #candidates(w: Write) {
    let q = w.tx
      .selectFrom("runs as r")
      .select(["r.id", "r.project_id"])
      .where("r.status", "=", "queued")
      .where("r.run_after", "<=", w.now)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("run_dependencies as d")
              .innerJoin("runs as dep", "dep.id", "d.depends_on")
              .select("d.run_id")
              .whereRef("d.run_id", "=", "r.id")
              .where("dep.status", "!=", "succeeded"),
          ),
        ),
      )
      .orderBy("r.priority", "desc")
      .orderBy("r.id")
      .limit(CANDIDATES);
    if (this.#ctx.store.kind === "postgres") q = q.forUpdate("r").skipLocked();
    return q.execute();
  }

  /** Whether the project may start one more run; on PostgreSQL this locks the project row. */
  async #admits(tx: Transaction<Database>, projectId: string): Promise<boolean> {
    let projectQuery = tx.selectFrom("projects").select("max_concurrent_runs").where("id", "=", projectId);
    if (this.#ctx.store.kind === "postgres") projectQuery = projectQuery.forUpdate();
    const project = await projectQuery.executeTakeFirst();
    if (!project) return false;
    const running = await tx
      .selectFrom("runs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("project_id", "=", projectId)
      .where("status", "=", "running")
      .executeTakeFirstOrThrow();
    return Number(running.n) < project.max_concurrent_runs;
  }

  /**
   * Per-provider admission (SPEC §4.1): at most the executor's `max_concurrent_runs` (default 4)
   * running at once across projects. Returns the provider key to hold, null when no executor is
   * configured, or false when the provider is full. On PostgreSQL an advisory lock per key
   * serialises concurrent admissions.
   */
  async #providerSlot(tx: Transaction<Database>, projectId: string): Promise<string | null | false> {
    const project = await tx
      .selectFrom("projects")
      .select("config")
      .where("id", "=", projectId)
      .executeTakeFirstOrThrow();
    const executor = await this.#executorConfig((JSON.parse(project.config) as ProjectConfig).executor, tx);
    if (!executor) return null;
    const key = `${executor.type}|${executor.base_url ?? ""}|${executor.model}`;
    if (this.#ctx.store.kind === "postgres")
      await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
    const running = await tx
      .selectFrom("runs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("provider_key", "=", key)
      .where("status", "=", "running")
      .executeTakeFirstOrThrow();
    return Number(running.n) < (executor.options?.max_concurrent_runs ?? PROVIDER_DEFAULT_CONCURRENCY)
      ? key
      : false;
  }

  async #withContext(tx: Transaction<Database>, run: RunsTable): Promise<ClaimedRun> {
    const [approved, project] = await Promise.all([
      tx.selectFrom("approved").selectAll().where("id", "=", run.approved_id).executeTakeFirstOrThrow(),
      tx.selectFrom("projects").selectAll().where("id", "=", run.project_id).executeTakeFirstOrThrow(),
    ]);
    const override = (JSON.parse(project.config) as ProjectConfig).executor;
    return {
      run: toRun(run),
      approved: toApproved(approved),
      project: toProject(project),
      lease_seconds: this.#ctx.config.leaseSeconds,
      executor: await this.#executorConfig(override, tx),
    };
  }

  /** Requeues (or fails) every running run whose lease has expired. Returns how many it moved. */
  async sweep(principal: Principal): Promise<number> {
    const { store, config, clock } = this.#ctx;
    const now = clock.now().toISOString();
    const expired = await store.db
      .selectFrom("runs")
      .select(["id"])
      .where("status", "=", "running")
      .where("lease_expires_at", "<", now)
      .limit(500)
      .execute();
    let moved = 0;
    for (const { id } of expired) {
      const done = await store.write(principal, async (w) => {
        const run = await w.tx
          .selectFrom("runs")
          .selectAll()
          .where("id", "=", id)
          .where("status", "=", "running")
          .where("lease_expires_at", "<", w.now)
          .executeTakeFirst();
        if (!run) return false;
        const retry = run.attempt < run.max_attempts;
        const error = {
          code: "lease_expired",
          message: `runner ${run.lease_owner} stopped renewing its lease (attempt ${run.attempt})`,
        };
        const updated = await w.tx
          .updateTable("runs")
          .set(
            retry
              ? {
                  status: "queued",
                  run_after: isoAfter(clock, backoffSeconds(run.attempt, config.retryBaseSeconds)),
                  lease_expires_at: null,
                  updated_at: w.now,
                }
              : {
                  status: "failed",
                  error: JSON.stringify(error),
                  lease_expires_at: null,
                  finished_at: w.now,
                  updated_at: w.now,
                },
          )
          .where("id", "=", id)
          .where("status", "=", "running")
          .where("attempt", "=", run.attempt)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return false;
        w.emit(retry ? "run.lease_expired" : "run.failed", id, {
          task_id: run.task_id,
          attempt: run.attempt,
          runner_id: run.lease_owner,
          ...(retry ? { requeued: true } : { error }),
        });
        if (!retry) await refreshTaskStatus(w, run.task_id);
        return true;
      });
      if (done) moved += 1;
    }
    return moved;
  }
}

/**
 * Long-poll claim: tries at once, then again whenever something that may make a run claimable
 * commits (a run queued or finished, panic off…) and at least every second (for `run_after`
 * timers and other replicas), until `waitSeconds` pass or the caller goes away.
 */
export async function claimWaiting(
  ctx: AppContext,
  queue: QueueService,
  principal: Principal,
  runnerId: string,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<ClaimedRun | undefined> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    // Listen before trying, so a run queued during the attempt still wakes us.
    const woken = ctx.store.bus.waitForQueue(Math.min(Math.max(deadline - Date.now(), 0), 1_000), signal);
    const claimed = await queue.claim(principal, runnerId);
    if (claimed) return claimed;
    if (deadline - Date.now() <= 0 || signal?.aborted) return undefined;
    await woken;
  }
}
