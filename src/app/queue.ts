import { type RawBuilder, sql, type Transaction } from "kysely";
import type { ProjectConfig } from "../contract/project.ts";
import type { ClaimedRun } from "../contract/runner.ts";
import { backoffSeconds } from "../core/backoff.ts";
import { isoAfter } from "../core/clock.ts";
import type { Principal } from "../core/roles.ts";
import { type ProviderConfig, publicProviderConfig } from "../llm/config.ts";
import { NOTIFY_CHANNEL } from "../store/pg-listener.ts";
import { toApproved, toProject, toRun } from "../store/rows.ts";
import type { ApprovedTable, Database, ProjectsTable, RunsTable } from "../store/schema.ts";
import { readPanic } from "../store/settings.ts";
import type { Write } from "../store/store.ts";
import { recordedContentHash } from "./approval-record.ts";
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
 * A claim is atomic. On PostgreSQL it is one call of `gimo_claim` (src/store/migrations/0005):
 * candidates are locked `FOR UPDATE SKIP LOCKED` (two runners never wait on, or get, the same run),
 * the project row is locked while its running runs are counted and the executor's advisory lock
 * while its running runs are counted, so admission cannot be overrun by concurrent claims — all in
 * one round trip. On SQLite the same rules run here in one IMMEDIATE transaction: claims are
 * serialised by the write lock. The approved plan comes with the `content_hash` its approval
 * recorded in the event log, not its row's (approval-record.ts). The claim moves the run to `running`,
 * increments `attempt` — the fencing token every later runner call must present — and sets the
 * lease owner and expiry.
 *
 * The sweeper finds running runs whose lease expired: with attempts left they go back to `queued`
 * after a jittered backoff; without, they fail with `lease_expired`; a run whose cancellation was
 * requested ends `cancelled` instead (its runner died before it could stop). It runs at server start
 * too, which recovers the runs left behind while the server was down.
 */
/** A row of `gimo_claim`: the claimed run, its approved plan and project, the executor, the event seq. */
export interface ClaimRow {
  run: RunsTable;
  approved: ApprovedTable;
  project: ProjectsTable;
  executor: ProviderConfig | null;
  seq: string;
}

/** Looks up the executor configuration a run uses: the project's own, else the server's (secrets and all). */
export type ExecutorConfigLookup = (
  projectOverride: ProviderConfig | undefined,
  tx: Transaction<Database>,
) => Promise<ProviderConfig | null>;

/** An executor's `max_concurrent_runs` when its options do not say. */
export const PROVIDER_DEFAULT_CONCURRENCY = 4;

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
    if (this.#ctx.store.kind === "postgres")
      return this.counted(await this.#claimOnPostgres(principal, runnerId));
    return this.counted(
      await this.#ctx.store.write(principal, (w) => this.claimIn(w, runnerId), { allowInPanic: true }),
    );
  }

  /** PostgreSQL: the same rules in one call of `gimo_claim` (migration 0005). */
  async #claimOnPostgres(principal: Principal, runnerId: string): Promise<ClaimedRun | undefined> {
    return this.#ctx.store.call(async (db) => {
      const now = this.#ctx.clock.now().toISOString();
      const lease = isoAfter(this.#ctx.clock, this.#ctx.config.leaseSeconds);
      const { rows } = await sql<ClaimRow>`select * from gimo_claim(${runnerId}, ${now}, ${lease},
        ${principal.actor}, ${principal.role}, ${NOTIFY_CHANNEL}, ${PROVIDER_DEFAULT_CONCURRENCY})`.execute(
        db,
      );
      const row = rows[0];
      const claimed = row ? this.fromClaimRow(row) : undefined;
      return { result: claimed, lastSeq: row ? Number(row.seq) : -1, queueChanged: false };
    });
  }

  /** A row of `gimo_claim` (or of `gimo_complete_many`) → the claimed run; undefined when none. */
  fromClaimRow(row: Partial<ClaimRow>): ClaimedRun | undefined {
    if (!row.run || !row.approved || !row.project) return undefined;
    return this.#claimed(row.run, row.approved, row.project, row.executor ?? null);
  }

  /** Counts a claim made outside `claim` (a completion that claimed the next run). */
  counted(claimed: ClaimedRun | undefined): ClaimedRun | undefined {
    if (claimed) this.#prometheus.claims.inc();
    return claimed;
  }

  /**
   * SQLite: the claim inside the caller's IMMEDIATE transaction (claims are serialised by the
   * write lock). Nothing while panic mode is on.
   *
   * It walks the queued runs in claim order and takes the first claimable one. A project found
   * at its limit (or at its executor's) is remembered for the rest of the walk, so its other
   * queued runs cost a set lookup each, and no project's backlog can hide another project's runs.
   */
  async claimIn(w: Write, runnerId: string): Promise<ClaimedRun | undefined> {
    const { config } = this.#ctx;
    if ((await readPanic(w.tx)).on) return undefined;
    // Per project seen in this walk: its admission, or null when it is full.
    const admissions = new Map<string, Admission | null>();
    for await (const candidate of queuedInClaimOrder(w.tx)) {
      const known = admissions.get(candidate.project_id);
      if (candidate.run_after > w.now || known === null) continue;
      if (await waitsOnDependencies(w.tx, candidate.id)) continue;
      const admission = known ?? (await this.#admission(w.tx, candidate.project_id));
      admissions.set(candidate.project_id, admission);
      if (!admission) continue;
      const run = await w.tx
        .updateTable("runs")
        .set((eb) => ({
          status: "running",
          attempt: eb("attempt", "+", 1),
          lease_owner: runnerId,
          lease_expires_at: isoAfter(this.#ctx.clock, config.leaseSeconds),
          cancel_requested: 0,
          provider_key: admission.providerKey,
          started_at: eb.fn.coalesce("started_at", eb.val(w.now)),
          updated_at: w.now,
        }))
        .where("id", "=", candidate.id)
        .where("status", "=", "queued")
        .returningAll()
        .executeTakeFirst();
      if (!run) continue;
      w.emit("run.started", run.id, { task_id: run.task_id, attempt: run.attempt, runner_id: runnerId });
      const approved = await w.tx
        .selectFrom("approved")
        .selectAll()
        .where("id", "=", run.approved_id)
        .executeTakeFirstOrThrow();
      // The hash the chain recorded, not the row's (approval-record.ts): the runner checks the plan against it.
      approved.content_hash = await recordedContentHash(w.tx, approved);
      return this.#claimed(run, approved, admission.project, admission.executor);
    }
    return undefined;
  }

  /** Whether the project may start one more run, and under which executor; null when not. */
  async #admission(tx: Transaction<Database>, projectId: string): Promise<Admission | null> {
    const project = await this.#admittingProject(tx, projectId);
    if (!project) return null;
    const executor = await this.#executorConfig((JSON.parse(project.config) as ProjectConfig).executor, tx);
    const providerKey = await this.#providerSlot(tx, executor);
    return providerKey === false ? null : { project, executor, providerKey };
  }

  #claimed(
    run: RunsTable,
    approved: ApprovedTable,
    project: ProjectsTable,
    executor: ProviderConfig | null,
  ): ClaimedRun {
    return {
      run: toRun(run),
      approved: toApproved(approved),
      project: toProject(project),
      lease_seconds: this.#ctx.config.leaseSeconds,
      executor: executor ? publicProviderConfig(executor) : null,
    };
  }

  /** The project, when it may start one more run (`max_concurrent_runs`), else undefined. */
  async #admittingProject(tx: Transaction<Database>, projectId: string): Promise<ProjectsTable | undefined> {
    const project = await tx
      .selectFrom("projects")
      .selectAll()
      .where("id", "=", projectId)
      .executeTakeFirst();
    if (!project) return undefined;
    const running = await tx
      .selectFrom("runs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("project_id", "=", projectId)
      .where("status", "=", "running")
      .executeTakeFirstOrThrow();
    return Number(running.n) < project.max_concurrent_runs ? project : undefined;
  }

  /**
   * Per-provider admission (SPEC §4.1): at most the executor's `max_concurrent_runs` (default 4)
   * running at once across projects. Returns the provider key to hold, null when no executor is
   * configured, or false when the provider is full.
   */
  async #providerSlot(
    tx: Transaction<Database>,
    executor: ProviderConfig | null,
  ): Promise<string | null | false> {
    if (!executor) return null;
    const key = `${executor.type}|${executor.base_url ?? ""}|${executor.model}`;
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
        // A run whose cancellation was requested is not retried: the person asked for it to stop.
        const cancelled = run.cancel_requested === 1;
        const retry = !cancelled && run.attempt < run.max_attempts;
        const error = cancelled
          ? {
              code: "cancelled",
              message: `cancelled on request; runner ${run.lease_owner} stopped renewing its lease before it stopped the work`,
            }
          : {
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
                  status: cancelled ? "cancelled" : "failed",
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
        const event = retry ? "run.lease_expired" : cancelled ? "run.cancelled" : "run.failed";
        w.emit(event, id, {
          task_id: run.task_id,
          attempt: run.attempt,
          runner_id: run.lease_owner,
          ...(retry ? { requeued: true } : { error_code: error.code, error }),
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
    if (signal?.aborted) return undefined; // the caller left, or its token was revoked: claim nothing
    const claimed = await queue.claim(principal, runnerId);
    if (claimed) return claimed;
    if (deadline - Date.now() <= 0 || signal?.aborted) return undefined;
    await woken;
  }
}

/** A project's admission for one claim: its row, its executor, the provider slot it holds. */
interface Admission {
  project: ProjectsTable;
  executor: ProviderConfig | null;
  providerKey: string | null;
}

/** How many queued runs a claim reads at a time while it walks the queue. */
const WALK_BATCH = 32;

/**
 * The queued runs in claim order (priority, highest first, then oldest), read in batches along
 * the partial index `runs_queued`. Each batch starts where the last ended: first the rest of the
 * last run's priority, then the lower priorities, so every read is an index seek. (SQLite only:
 * PostgreSQL walks in `gimo_claim_core`.) The index is named: without statistics SQLite's planner
 * prefers `runs_lease` for `status = 'queued'` and then sorts every queued run, which made a claim
 * cost 0.2 ms per 2,000 queued runs instead of 0.02 ms whatever the backlog.
 */
async function* queuedInClaimOrder(tx: Transaction<Database>) {
  type Queued = Pick<RunsTable, "id" | "project_id" | "priority" | "run_after">;
  const page = async (after: RawBuilder<unknown>) =>
    (
      await sql<Queued>`select id, project_id, priority, run_after from runs indexed by runs_queued
        where status = 'queued' ${after} order by priority desc, id limit ${WALK_BATCH}`.execute(tx)
    ).rows;
  let batch = await page(sql``);
  while (batch.length > 0) {
    yield* batch;
    const last = batch.at(-1) as Queued;
    batch = await page(sql`and priority = ${last.priority} and id > ${last.id}`);
    if (batch.length === 0) batch = await page(sql`and priority < ${last.priority}`);
  }
}

/** Whether a run still waits on a dependency that has not succeeded. */
async function waitsOnDependencies(tx: Transaction<Database>, runId: string): Promise<boolean> {
  const waiting = await tx
    .selectFrom("run_dependencies as d")
    .innerJoin("runs as dep", "dep.id", "d.depends_on")
    .select("d.run_id")
    .where("d.run_id", "=", runId)
    .where("dep.status", "!=", "succeeded")
    .limit(1)
    .executeTakeFirst();
  return waiting !== undefined;
}
