import { type RawBuilder, sql, type Transaction } from "kysely";
import type { ProjectConfig } from "../contract/project.ts";
import type { Fence } from "../contract/runner.ts";
import { isoAfter } from "../core/clock.ts";
import { notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import type { ProviderConfig } from "../llm/config.ts";
import { casRun } from "./cas.ts";
import {
  type AttemptEnd,
  CANCELLED_INSTEAD_OF_RETRY,
  type ClaimedRows,
  type Ended,
  type EndRequest,
  fenced,
  PROVIDER_DEFAULT_CONCURRENCY,
  type QueueOptions,
  type QueueStore,
  sweepExpired,
} from "./queue-store.ts";
import { recordedContentHash } from "./recorded-approval.ts";
import type { Database, ProjectsTable, RunsTable } from "./schema.ts";
import { readPanic } from "./settings.ts";
import type { Store, Write } from "./store.ts";
import { refreshTaskStatus } from "./task-status.ts";

/**
 * The queue store on SQLite: the rules of queue-store.ts in TypeScript, each call one IMMEDIATE
 * transaction (claims and ends are serialised by the write lock). Ends go through the store's
 * group commit: the ends that arrive while one commits share the next transaction.
 *
 * A claim walks the queued runs in claim order and takes the first claimable one. A project found
 * at its limit (or at its executor's) is remembered for the rest of the walk, so its other queued
 * runs cost a map lookup each, and no project's backlog can hide another project's runs.
 */
export class QueueSqlite implements QueueStore {
  readonly #store: Store;
  readonly #o: QueueOptions;

  constructor(store: Store, options: QueueOptions) {
    this.#store = store;
    this.#o = options;
  }

  claim(principal: Principal, runnerId: string): Promise<ClaimedRows | undefined> {
    return this.#store.write(principal, (w) => this.#claimIn(w, runnerId), { allowInPanic: true });
  }

  async complete({ principal, fence, end, claimNext }: EndRequest): Promise<Ended> {
    return this.#store.write(
      principal,
      async (w) => {
        const ended = await this.#completeIn(w, fence, end);
        return { ...ended, next: claimNext ? await this.#claimIn(w, fence.runnerId) : undefined };
      },
      { group: true },
    );
  }

  sweep(principal: Principal): Promise<number> {
    return sweepExpired(this.#store, this.#o, principal);
  }

  /** The claim inside the caller's transaction. Nothing while panic mode is on. */
  async #claimIn(w: Write, runnerId: string): Promise<ClaimedRows | undefined> {
    if ((await readPanic(w.tx)).on) return undefined;
    // Per project seen in this walk: its admission, or null when it is full.
    const admissions = new Map<string, Admission | null>();
    let usesExecutor: boolean | undefined;
    for await (const candidate of queuedInClaimOrder(w.tx)) {
      const known = admissions.get(candidate.project_id);
      if (candidate.run_after > w.now || known === null) continue;
      if (await waitsOnDependencies(w.tx, candidate.id)) continue;
      const admission = known ?? (await this.#admission(w.tx, candidate.project_id));
      admissions.set(candidate.project_id, admission);
      if (!admission) continue;
      // No executor for this project: a runner that runs agent steps with it (the built-in
      // executor) gets only plans that need none (command and test steps).
      if (!admission.executor) {
        usesExecutor ??= await runnerUsesExecutor(w.tx, runnerId);
        if (usesExecutor && (await needsModel(w.tx, candidate.approved_id))) continue;
      }
      const run = await casRun(w, candidate.id, "queued", "running")
        .set((eb) => ({
          attempt: eb("attempt", "+", 1),
          lease_owner: runnerId,
          lease_expires_at: isoAfter(this.#o.clock, this.#o.leaseSeconds),
          cancel_requested: 0,
          provider_key: admission.providerKey,
          started_at: eb.fn.coalesce("started_at", eb.val(w.now)),
        }))
        .returningAll()
        .executeTakeFirst();
      if (!run) continue;
      w.emit("run.started", run.id, { task_id: run.task_id, attempt: run.attempt, runner_id: runnerId });
      const approved = await w.tx
        .selectFrom("approved")
        .selectAll()
        .where("id", "=", run.approved_id)
        .executeTakeFirstOrThrow();
      // The hash the chain recorded, not the row's: the runner checks the plan against it.
      approved.content_hash = await recordedContentHash(w.tx, approved);
      return { run, approved, project: admission.project, executor: admission.executor };
    }
    return undefined;
  }

  /** Whether the project may start one more run, and under which executor; null when not. */
  async #admission(tx: Transaction<Database>, projectId: string): Promise<Admission | null> {
    const project = await admittingProject(tx, projectId);
    if (!project) return null;
    const executor = await this.#o.executorConfig((JSON.parse(project.config) as ProjectConfig).executor, tx);
    const providerKey = await providerSlot(tx, executor);
    return providerKey === false ? null : { project, executor, providerKey };
  }

  /** The end inside the caller's transaction. */
  async #completeIn(w: Write, fence: Fence, reported: AttemptEnd): Promise<Omit<Ended, "next">> {
    const current = await w.tx
      .selectFrom("runs")
      .selectAll()
      .where("id", "=", fence.runId)
      .executeTakeFirst();
    if (!current) throw notFound("run", fence.runId);
    // A retryable failure of a run whose cancellation was requested ends it: cancelled, not retried.
    const end: AttemptEnd =
      current.cancel_requested === 1 && reported.status === "failed" && reported.error?.retryable === true
        ? { ...reported, status: "cancelled", error: CANCELLED_INSTEAD_OF_RETRY }
        : reported;
    const { error } = end;
    const retry =
      end.status === "failed" && error?.retryable === true && current.attempt < current.max_attempts;
    if (retry) {
      await fenced(w, fence, {
        status: "queued",
        run_after: isoAfter(this.#o.clock, end.wait),
        lease_expires_at: null,
        error: JSON.stringify(error),
      });
      w.emit("run.retry", fence.runId, {
        task_id: current.task_id,
        attempt: fence.attempt,
        error_code: error?.code ?? null,
        wait_seconds: end.wait,
      });
      return { status: "queued", startedAt: current.started_at };
    }
    await fenced(w, fence, {
      status: end.status,
      result: end.result,
      error: error ? JSON.stringify(error) : null,
      lease_expires_at: null,
      finished_at: w.now,
    });
    w.emit(`run.${end.status}`, fence.runId, {
      task_id: current.task_id,
      attempt: fence.attempt,
      ...(error ? { error_code: error.code } : {}),
    });
    await refreshTaskStatus(w, current.task_id);
    return { status: end.status, startedAt: current.started_at };
  }
}

/** A project's admission for one claim: its row, its executor, the provider slot it holds. */
interface Admission {
  project: ProjectsTable;
  executor: ProviderConfig | null;
  providerKey: string | null;
}

/** The project, when it may start one more run (`max_concurrent_runs`), else undefined. */
async function admittingProject(
  tx: Transaction<Database>,
  projectId: string,
): Promise<ProjectsTable | undefined> {
  const project = await tx.selectFrom("projects").selectAll().where("id", "=", projectId).executeTakeFirst();
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
async function providerSlot(
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

/**
 * How many queued runs a claim reads at a time while it walks the queue: a few first (the head of
 * the queue is usually admitted, and each row read is a row materialised), then larger batches.
 */
const FIRST_WALK_BATCH = 4;
const WALK_BATCH = 32;

/**
 * The queued runs in claim order (priority, highest first, then oldest), read in batches along
 * the partial index `runs_queued`. Each batch starts where the last ended: first the rest of the
 * last run's priority, then the lower priorities, so every read is an index seek. The index is
 * named: without statistics SQLite's planner prefers an index on `status` alone (`runs_lease`
 * before migration 0017, `runs_status` since) for `status = 'queued'` and then sorts every queued
 * run, which made a claim cost 0.2 ms per 2,000 queued runs instead of 0.02 ms whatever the
 * backlog.
 */
async function* queuedInClaimOrder(tx: Transaction<Database>) {
  type Queued = Pick<RunsTable, "id" | "project_id" | "approved_id" | "priority" | "run_after">;
  const page = async (after: RawBuilder<unknown>, size = WALK_BATCH) =>
    (
      await sql<Queued>`select id, project_id, approved_id, priority, run_after from runs indexed by runs_queued
        where status = 'queued' ${after} order by priority desc, id limit ${size}`.execute(tx)
    ).rows;
  let batch = await page(sql``, FIRST_WALK_BATCH);
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

/** Whether an approved plan has an `agent` step (it cannot run without an executor model). */
async function needsModel(tx: Transaction<Database>, approvedId: string): Promise<boolean> {
  const found = await sql<{ one: number }>`select 1 as one from approved a, json_each(a.plan, '$.steps') s
    where a.id = ${approvedId} and json_extract(s.value, '$.kind') = 'agent' limit 1`.execute(tx);
  return found.rows.length > 0;
}

/** Whether the runner registered as running agent steps with the executor (`uses_executor`). */
async function runnerUsesExecutor(tx: Transaction<Database>, runnerId: string): Promise<boolean> {
  const row = await tx
    .selectFrom("runners")
    .select("uses_executor")
    .where("id", "=", runnerId)
    .executeTakeFirst();
  return row?.uses_executor === 1;
}
