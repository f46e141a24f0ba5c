import { sql } from "kysely";
import type { Fence } from "../contract/runner.ts";
import { isoAfter } from "../core/clock.ts";
import type { Principal } from "../core/roles.ts";
import { Batcher, type Settled } from "../store/batcher.ts";
import { NOTIFY_CHANNEL } from "../store/pg-listener.ts";
import type { AppContext } from "./context.ts";
import type { PrometheusMetrics } from "./prometheus.ts";
import { type ClaimRow, PROVIDER_DEFAULT_CONCURRENCY, type QueueService } from "./queue.ts";
import { type AttemptEnd, type Ended, lostOrUnknown } from "./run-end.ts";

/** An end waiting to be written. */
export interface PgEnd {
  principal: Principal;
  fence: Fence;
  end: AttemptEnd;
  claimNext: boolean;
}

/** A row of `gimo_complete_many`: the end at position `i`; its claim columns null when none. */
type CompletionRow = Partial<ClaimRow> & {
  i: number;
  outcome: string;
  started_at: string | null;
};

/** How long a batch of several ends waits for a lock before it gives up and each is written alone. */
const BATCH_LOCK_TIMEOUT = "100ms";

/**
 * PostgreSQL: the ends of attempts. Ends that arrive while one is being written go together in the
 * next statement, one call of `gimo_complete_many` (migration 0007): one commit and one append of
 * their events for the whole batch (Batcher). An end whose runner lost its lease fails alone; a
 * batch gives up on a lock after BATCH_LOCK_TIMEOUT (so it never waits on a deadlock), and any
 * error of its statement sends each of its ends back to be written alone, waiting as it must.
 */
export class PostgresRunEnds {
  readonly #ctx: AppContext;
  readonly #prometheus: PrometheusMetrics;
  readonly #queue: QueueService;
  readonly #batcher = new Batcher<PgEnd, Ended>(
    (ends) => this.#write(ends, BATCH_LOCK_TIMEOUT),
    (end) => this.#writeAlone(end),
  );

  constructor(ctx: AppContext, prometheus: PrometheusMetrics, queue: QueueService) {
    this.#ctx = ctx;
    this.#prometheus = prometheus;
    this.#queue = queue;
  }

  end(end: PgEnd): Promise<Ended> {
    return this.#batcher.submit(end);
  }

  /** One end alone: a batch of one, which waits for locks as long as it must. */
  async #writeAlone(end: PgEnd): Promise<Ended> {
    const [settled] = await this.#write([end], null);
    if (!settled?.ok) throw settled?.error;
    return settled.value;
  }

  async #write(ends: PgEnd[], lockTimeout: string | null): Promise<Settled<Ended>[]> {
    const { clock, config } = this.#ctx;
    return this.#ctx.store.call(async (db) => {
      const units = ends.map(({ principal, fence, end, claimNext }) => ({
        run: fence.runId,
        attempt: fence.attempt,
        runner: fence.runnerId,
        status: end.status,
        result: end.result,
        error: end.error ? JSON.stringify(end.error) : null,
        error_code_json: end.error ? JSON.stringify(end.error.code) : null,
        retryable: end.error?.retryable === true,
        retry_after: isoAfter(clock, end.wait),
        wait_json: JSON.stringify(end.wait),
        claim_next: claimNext,
        actor: principal.actor,
        role: principal.role,
      }));
      const { rows } = await sql<CompletionRow>`select * from gimo_complete_many(
        ${JSON.stringify(units)}::json, ${clock.now().toISOString()}, ${NOTIFY_CHANNEL},
        ${isoAfter(clock, config.leaseSeconds)}, ${PROVIDER_DEFAULT_CONCURRENCY}, ${lockTimeout})`.execute(
        db,
      );
      // From here on the ends are committed: nothing may throw, or the Batcher would write them again.
      const byPosition = new Map(rows.map((row) => [row.i, row]));
      const settled = await Promise.all(
        ends.map(async ({ fence }, k): Promise<Settled<Ended>> => {
          const row = byPosition.get(k + 1);
          if (!row || row.outcome === "lease_lost")
            return { ok: false, error: await lostOrUnknown(db, fence) };
          try {
            return { ok: true, value: this.#ended(row) };
          } catch (error) {
            return { ok: false, error };
          }
        }),
      );
      if (ends.length > 1) this.#prometheus.completionBatch.observe(ends.length);
      const lastSeq = Math.max(-1, ...rows.map((row) => (row.seq == null ? -1 : Number(row.seq))));
      return { result: settled, lastSeq, queueChanged: true };
    });
  }

  #ended(row: CompletionRow): Ended {
    return {
      status: row.outcome as Ended["status"],
      startedAt: row.started_at,
      next: this.#queue.fromClaimRow(row),
    };
  }
}
