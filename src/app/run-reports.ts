import type { Kysely } from "kysely";
import type { ClaimedRun, Completion, Fence, LogLineInput, StepUpdate } from "../contract/runner.ts";
import { backoff } from "../core/backoff.ts";
import { isoAfter } from "../core/clock.ts";
import { GimoError } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { decodeCursor, encodeCursor } from "../store/pagination.ts";
import { type Ended, fenced, leaseLost, type QueueStore } from "../store/queue-store.ts";
import type { Database } from "../store/schema.ts";
import type { AppContext } from "./context.ts";
import type { PrometheusMetrics } from "./prometheus.ts";
import type { QueueService } from "./queue.ts";
import { checkReportedResult } from "./run-end.ts";
import { loadRunRow } from "./runs.ts";

/**
 * What a runner reports about a run it holds: lease extensions, log lines, step updates, the end.
 *
 * Every report is fenced by `(run_id, attempt, runner_id)`: it is applied as one UPDATE whose
 * WHERE clause requires the run to still be `running` in that attempt under that runner, and the
 * affected-row count is checked. A runner that lost its lease (it stalled past expiry and the run
 * was requeued, re-claimed, cancelled…) therefore changes nothing and gets 409 `lease_lost` — a
 * late write can never overwrite a newer attempt.
 */
export class RunReportService {
  readonly #ctx: AppContext;
  readonly #prometheus: PrometheusMetrics;

  readonly #queue: QueueService;
  readonly #queueStore: QueueStore;

  constructor(ctx: AppContext, prometheus: PrometheusMetrics, queue: QueueService, queueStore: QueueStore) {
    this.#ctx = ctx;
    this.#prometheus = prometheus;
    this.#queue = queue;
    this.#queueStore = queueStore;
  }

  /** Extends the lease; tells the runner whether cancellation was requested. */
  async extendLease(principal: Principal, fence: Fence) {
    return this.#ctx.store.write(principal, async (w) => {
      const run = await fenced(w, fence, {
        lease_expires_at: isoAfter(this.#ctx.clock, this.#ctx.config.leaseSeconds),
      });
      return { cancel_requested: run.cancel_requested === 1, lease_expires_at: run.lease_expires_at };
    });
  }

  /** The run, when this runner still holds this attempt's lease; else `lease_lost` (409). A read: nothing changes. */
  async held(fence: Fence): Promise<{ project_id: string; task_id: string }> {
    const run = await this.#ctx.store.db
      .selectFrom("runs")
      .select(["project_id", "task_id"])
      .where("id", "=", fence.runId)
      .where("status", "=", "running")
      .where("attempt", "=", fence.attempt)
      .where("lease_owner", "=", fence.runnerId)
      .executeTakeFirst();
    if (!run) throw leaseLost(fence);
    return run;
  }

  async appendLogs(
    principal: Principal,
    fence: Fence,
    lines: readonly LogLineInput[],
    correlationId: string | null,
  ) {
    const { redactor } = this.#ctx;
    return this.#ctx.store.write(principal, async (w) => {
      const run = await fenced(w, fence, {});
      const last = await w.tx
        .selectFrom("run_logs")
        .select((eb) => eb.fn.max("seq").as("seq"))
        .where("run_id", "=", fence.runId)
        .executeTakeFirst();
      const first = Number(last?.seq ?? 0) + 1;
      if (lines.length > 0) {
        await w.tx
          .insertInto("run_logs")
          .values(
            lines.map((line, i) => ({
              run_id: fence.runId,
              seq: first + i,
              attempt: fence.attempt,
              ts: line.ts ?? w.now,
              level: line.level,
              msg: redactor.redact(line.msg),
              step_id: line.step_id ?? null,
              correlation_id: correlationId,
            })),
          )
          .execute();
        w.emit("run.logs", fence.runId, {
          task_id: run.task_id,
          attempt: fence.attempt,
          from_seq: first,
          to_seq: first + lines.length - 1,
        });
      }
      return { last_seq: first + lines.length - 1 };
    });
  }

  async updateSteps(principal: Principal, fence: Fence, updates: readonly StepUpdate[]) {
    return this.#ctx.store.write(principal, async (w) => {
      const run = await fenced(w, fence, {});
      const steps = JSON.parse(run.steps) as Record<string, unknown>[];
      for (const update of updates) {
        const step = steps.find((s) => s.id === update.id);
        if (!step) throw new GimoError("validation_failed", `run ${fence.runId} has no step ${update.id}`);
        if (update.status === "running" && step.status !== "running") step.started_at = w.now;
        if (["succeeded", "failed", "skipped"].includes(update.status)) step.finished_at = w.now;
        step.status = update.status;
        if (update.detail !== undefined) step.detail = this.#ctx.redactor.redact(update.detail);
        if (update.attempts !== undefined) step.attempts = update.attempts;
      }
      await fenced(w, fence, { steps: JSON.stringify(steps) });
      for (const update of updates) {
        w.emit("run.step", fence.runId, { task_id: run.task_id, step_id: update.id, status: update.status });
      }
      return steps;
    });
  }

  /**
   * Ends the attempt. A failure marked `retryable` (the infrastructure failed, not the work) goes
   * back to the queue while attempts remain — after `retry_after_seconds` when the provider said
   * when (a rate limit's reset), else after a jittered backoff.
   *
   * A result that claims a link that is not http(s), or a branch that is not the run's own, is
   * refused before anything is written (core/run-result).
   *
   * Ends are batched on both databases: the ends that arrive while one is being written go
   * together in the next transaction (SQLite: the store's group commit; PostgreSQL: one call of
   * `gimo_complete_many`), so many runners ending runs at once cost one commit per batch, not one
   * per run.
   */
  async complete(
    principal: Principal,
    fence: Fence,
    completion: Completion,
    options: { claimNext?: boolean } = {},
  ): Promise<{ status: Ended["status"]; next?: ClaimedRun | null }> {
    if (completion.result) await checkReportedResult(this.#ctx.store.db, fence.runId, completion.result);
    const error = completion.error
      ? { ...completion.error, message: this.#ctx.redactor.redact(completion.error.message) }
      : undefined;
    const result = completion.result ? this.#ctx.redactor.redact(JSON.stringify(completion.result)) : null;
    const wait = error?.retry_after_seconds ?? backoff(fence.attempt, this.#ctx.config.retryBaseSeconds);
    const end = { status: completion.status, result, error, wait };
    const claimNext = options.claimNext === true;
    const { status, startedAt, next } = await this.#queueStore.complete({ principal, fence, end, claimNext });
    if (status !== "queued" && startedAt) {
      const seconds = (this.#ctx.clock.now().getTime() - Date.parse(startedAt)) / 1000;
      this.#prometheus.runDuration.observe({ status }, seconds);
    }
    return claimNext ? { status, next: this.#queue.claimed(next) ?? null } : { status };
  }

  /** Log lines `from`..`to` inclusive (one `run.logs` event's batch). */
  async lines(runId: string, from: number, to: number) {
    return this.#ctx.store.db
      .selectFrom("run_logs")
      .select(["seq", "ts", "level", "msg", "step_id", "attempt"])
      .where("run_id", "=", runId)
      .where("seq", ">=", from)
      .where("seq", "<=", to)
      .orderBy("seq")
      .execute();
  }

  /** Log lines after `after` (a seq), oldest first. */
  async logs(runId: string, after: number | undefined, limit: number, cursor?: string) {
    const db: Kysely<Database> = this.#ctx.store.db;
    await loadRunRow(db, runId);
    // seq is a 32-bit column: nothing lies beyond its range, and PostgreSQL refuses to compare past it.
    const from = Math.min(decodeCursor<number>(cursor, "number") ?? after ?? 0, 2_147_483_647);
    const rows = await db
      .selectFrom("run_logs")
      .select(["seq", "ts", "level", "msg", "step_id", "correlation_id", "attempt"])
      .where("run_id", "=", runId)
      .where("seq", ">", from)
      .orderBy("seq")
      .limit(limit + 1)
      .execute();
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    const last = items.at(-1);
    return { items, next_cursor: more && last ? encodeCursor(last.seq) : null };
  }
}
