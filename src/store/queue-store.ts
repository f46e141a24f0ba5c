/**
 * The queue behind one port: what the run queue needs from a database, with one implementation
 * per database (queue-sqlite.ts, queue-postgres.ts), as River's `riverdriver` does. Nothing
 * outside src/store/ asks which database it runs on.
 *
 * The rules both implementations keep (and test/queue-store.test.ts runs on both):
 *
 *   claim     A run is claimable when it is `queued`, its `run_after` has passed, every run it
 *             depends on has `succeeded`, panic mode is off, its project has fewer than
 *             `max_concurrent_runs` running and its executor fewer than its own
 *             `max_concurrent_runs` (default PROVIDER_DEFAULT_CONCURRENCY). A runner registered
 *             with `uses_executor` (the built-in executor) is not given a run whose plan has an
 *             `agent` step while the run's project has no executor (its own or the server's);
 *             command-and-test plans it is. Highest `priority`
 *             first, then oldest; a project found full is passed over, never waited on. The claim
 *             moves the run `queued → running`, increments `attempt` (the fencing token), sets the
 *             lease, appends `run.started`, and answers the approved plan with the content hash
 *             its approval recorded in the event log.
 *   complete  Under the fence (run `running` in that attempt under that runner, else
 *             `lease_lost`): a retryable failure with attempts left goes `running → queued`
 *             after `retryAfter` (`run.retry`); a retryable failure of a run whose cancellation
 *             was requested ends `cancelled`; otherwise `running → succeeded | failed |
 *             cancelled` (`run.<status>`) and the task's derived status (`task.status`).
 *             With `claimNext` the same transaction then claims for the same runner. Ends that
 *             arrive together are written together (one commit per batch).
 *   sweep     A running run whose lease expired goes back to `queued` after a backoff while it
 *             has attempts left (`run.lease_expired`), else fails `lease_expired`; a run whose
 *             cancellation was requested ends `cancelled`.
 *
 * Every transition named here is one of core/run-machine's.
 */
import type { Transaction } from "kysely";
import type { Fence } from "../contract/runner.ts";
import { backoff } from "../core/backoff.ts";
import { type Clock, isoAfter } from "../core/clock.ts";
import { GimoError } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { runError } from "../core/run-failures.ts";
import type { RunStatus } from "../core/run-machine.ts";
import type { ProviderConfig } from "../llm/config.ts";
import { casRun } from "./cas.ts";
import type { ApprovedTable, Database, ProjectsTable, RunsTable } from "./schema.ts";
import type { Store, Write } from "./store.ts";
import { refreshTaskStatus } from "./task-status.ts";

/** An executor's `max_concurrent_runs` when its options do not say. */
export const PROVIDER_DEFAULT_CONCURRENCY = 4;

/** A claimed run as rows: the run, its approved plan (recorded hash), project and executor. */
export interface ClaimedRows {
  run: RunsTable;
  approved: ApprovedTable;
  project: ProjectsTable;
  /** The executor configuration it was admitted under (secrets and all); null when none. */
  executor: ProviderConfig | null;
}

/** How an attempt ends, redacted, with the moment a retry may run. */
export interface AttemptEnd {
  status: "succeeded" | "failed" | "cancelled";
  /** The result as JSON text, or null. */
  result: string | null;
  error?: { code: string; message: string; details?: unknown; retryable?: boolean } | undefined;
  /** Seconds before a retry (the provider's `retry_after_seconds`, else a backoff). */
  wait: number;
}

/** One end to write. */
export interface EndRequest {
  principal: Principal;
  fence: Fence;
  end: AttemptEnd;
  claimNext: boolean;
}

/** What writing an end gives back: how it ended, when the attempt started, the run claimed next. */
export interface Ended {
  status: AttemptEnd["status"] | "queued";
  startedAt: string | null;
  next: ClaimedRows | undefined;
}

/** The error of a run whose cancellation was requested when its runner reported a retryable failure. */
export const CANCELLED_INSTEAD_OF_RETRY = runError(
  "cancelled",
  "cancelled on request; the runner had reported a retryable failure",
);

export interface QueueStore {
  /** Claims the next claimable run for `runnerId`, or nothing. */
  claim(principal: Principal, runnerId: string): Promise<ClaimedRows | undefined>;
  /** Ends an attempt (batched with the ends that arrive meanwhile); `lease_lost` when fenced out. */
  complete(request: EndRequest): Promise<Ended>;
  /** Requeues (or fails) every running run whose lease has expired; how many it moved. */
  sweep(principal: Principal): Promise<number>;
}

/** Looks up the executor configuration a run uses: the project's own, else the server's. */
export type ExecutorConfigLookup = (
  projectOverride: ProviderConfig | undefined,
  tx: Transaction<Database>,
) => Promise<ProviderConfig | null>;

export interface QueueOptions {
  clock: Clock;
  leaseSeconds: number;
  retryBaseSeconds: number;
  /** SQLite only: PostgreSQL reads the same settings in `gimo_claim_walk`. */
  executorConfig: ExecutorConfigLookup;
  /** A batch of several ends was written (its size). */
  onBatch?: (size: number) => void;
}

/**
 * The fenced UPDATE: `running → set.status` (or the same status) only while the runner still holds
 * this attempt's lease; `lease_lost` otherwise.
 */
export async function fenced(w: Write, fence: Fence, set: Partial<RunsTable>): Promise<RunsTable> {
  const { status, ...rest } = set;
  const row = await casRun(w, fence.runId, "running", status)
    .set(rest)
    .where("attempt", "=", fence.attempt)
    .where("lease_owner", "=", fence.runnerId)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw leaseLost(fence);
  return row;
}

export function leaseLost(fence: Fence): GimoError {
  return new GimoError(
    "lease_lost",
    `run ${fence.runId} attempt ${fence.attempt} is no longer held by runner ${fence.runnerId}; stop working on it`,
  );
}

/** The sweep, the same statements on both databases (one short transaction per expired run). */
export async function sweepExpired(
  store: Store,
  options: QueueOptions,
  principal: Principal,
): Promise<number> {
  const { clock } = options;
  const expired = await store.db
    .selectFrom("runs")
    .select(["id"])
    .where("status", "=", "running")
    .where("lease_expires_at", "<", clock.now().toISOString())
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
      const to: RunStatus = retry ? "queued" : cancelled ? "cancelled" : "failed";
      const error = cancelled
        ? runError(
            "cancelled",
            `cancelled on request; runner ${run.lease_owner} stopped renewing its lease before it stopped the work`,
          )
        : runError(
            "lease_expired",
            `runner ${run.lease_owner} stopped renewing its lease (attempt ${run.attempt})`,
          );
      const updated = await casRun(w, id, "running", to)
        .set(
          retry
            ? {
                run_after: isoAfter(clock, backoff(run.attempt, options.retryBaseSeconds)),
                lease_expires_at: null,
              }
            : { error: JSON.stringify(error), lease_expires_at: null, finished_at: w.now },
        )
        .where("attempt", "=", run.attempt)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      const base = { task_id: run.task_id, attempt: run.attempt, runner_id: run.lease_owner };
      if (retry) w.emit("run.lease_expired", id, { ...base, requeued: true });
      else w.emit(cancelled ? "run.cancelled" : "run.failed", id, { ...base, error_code: error.code, error });
      if (!retry) await refreshTaskStatus(w, run.task_id);
      return true;
    });
    if (done) moved += 1;
  }
  return moved;
}
