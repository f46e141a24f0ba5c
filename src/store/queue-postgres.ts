import { sql } from "kysely";
import type { Fence } from "../contract/runner.ts";
import { isoAfter } from "../core/clock.ts";
import { notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import type { ProviderConfig } from "../llm/config.ts";
import { Batcher, type Settled } from "./batcher.ts";
import { NOTIFY_CHANNEL } from "./pg-listener.ts";
import {
  type ClaimedRows,
  type Ended,
  type EndRequest,
  leaseLost,
  PROVIDER_DEFAULT_CONCURRENCY,
  type QueueOptions,
  type QueueStore,
  sweepExpired,
} from "./queue-store.ts";
import type { ApprovedTable, ProjectsTable, RunsTable } from "./schema.ts";
import type { Store } from "./store.ts";

/**
 * The queue store on PostgreSQL: the rules of queue-store.ts in the functions of src/store/sql/,
 * one statement per call.
 *
 * A claim is one call of `gimo_claim`. Ends that arrive while one is being written go together in
 * the next statement, one call of `gimo_complete_many`: one commit and one append of their events
 * for the whole batch (Batcher). An end whose runner lost its lease fails alone; a batch gives up
 * on a lock after BATCH_LOCK_TIMEOUT (so it never waits on a deadlock), and any error of its
 * statement sends each of its ends back to be written alone, waiting as it must.
 */
export class QueuePostgres implements QueueStore {
  readonly #store: Store;
  readonly #o: QueueOptions;
  readonly #batcher = new Batcher<EndRequest, Ended>(
    (ends) => this.#write(ends, BATCH_LOCK_TIMEOUT),
    (end) => this.#writeAlone(end),
  );

  constructor(store: Store, options: QueueOptions) {
    this.#store = store;
    this.#o = options;
  }

  claim(principal: Principal, runnerId: string): Promise<ClaimedRows | undefined> {
    const { clock, leaseSeconds } = this.#o;
    return this.#store.call(async (db) => {
      const { rows } = await sql<ClaimRow>`select * from gimo_claim(${runnerId}, ${clock.now().toISOString()},
        ${isoAfter(clock, leaseSeconds)}, ${principal.actor}, ${principal.role}, ${NOTIFY_CHANNEL},
        ${PROVIDER_DEFAULT_CONCURRENCY})`.execute(db);
      const row = rows[0];
      return {
        result: row ? claimedRows(row) : undefined,
        lastSeq: row ? Number(row.seq) : -1,
        queueChanged: false,
      };
    });
  }

  complete(request: EndRequest): Promise<Ended> {
    return this.#batcher.submit(request);
  }

  sweep(principal: Principal): Promise<number> {
    return sweepExpired(this.#store, this.#o, principal);
  }

  /** One end alone: a batch of one, which waits for locks as long as it must. */
  async #writeAlone(end: EndRequest): Promise<Ended> {
    const [settled] = await this.#write([end], null);
    if (!settled?.ok) throw settled?.error;
    return settled.value;
  }

  async #write(ends: EndRequest[], lockTimeout: string | null): Promise<Settled<Ended>[]> {
    const { clock, leaseSeconds } = this.#o;
    return this.#store.call(async (db) => {
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
        ${isoAfter(clock, leaseSeconds)}, ${PROVIDER_DEFAULT_CONCURRENCY}, ${lockTimeout})`.execute(db);
      // From here on the ends are committed: nothing may throw, or the Batcher would write them again.
      const byPosition = new Map(rows.map((row) => [row.i, row]));
      const settled = await Promise.all(
        ends.map(async ({ fence }, k): Promise<Settled<Ended>> => {
          const row = byPosition.get(k + 1);
          if (!row || row.outcome === "lease_lost")
            return { ok: false, error: await lostOrUnknown(this.#store, fence) };
          return {
            ok: true,
            value: {
              status: row.outcome as Ended["status"],
              startedAt: row.started_at,
              next: claimedRows(row),
            },
          };
        }),
      );
      if (ends.length > 1) this.#o.onBatch?.(ends.length);
      const lastSeq = Math.max(-1, ...rows.map((row) => (row.seq == null ? -1 : Number(row.seq))));
      return { result: settled, lastSeq, queueChanged: true };
    });
  }
}

/** How long a batch of several ends waits for a lock before it gives up and each is written alone. */
const BATCH_LOCK_TIMEOUT = "100ms";

/** A row of `gimo_claim`: the claimed run, its approved plan and project, the executor, the event seq. */
interface ClaimRow {
  run: RunsTable;
  approved: ApprovedTable;
  project: ProjectsTable;
  executor: ProviderConfig | null;
  seq: string;
}

/** A row of `gimo_complete_many`: the end at position `i`; its claim columns null when none. */
type CompletionRow = Partial<ClaimRow> & { i: number; outcome: string; started_at: string | null };

function claimedRows(row: Partial<ClaimRow>): ClaimedRows | undefined {
  if (!row.run || !row.approved || !row.project) return undefined;
  return { run: row.run, approved: row.approved, project: row.project, executor: row.executor ?? null };
}

/**
 * The error for an end that changed nothing: 404 for an unknown run, else 409 `lease_lost`. It
 * never throws: in a batch it runs after the statement committed the other ends.
 */
async function lostOrUnknown(store: Store, fence: Fence): Promise<Error> {
  const row = await store.db
    .selectFrom("runs")
    .select("id")
    .where("id", "=", fence.runId)
    .executeTakeFirst()
    .catch(() => ({ id: fence.runId }));
  return row ? leaseLost(fence) : notFound("run", fence.runId);
}
