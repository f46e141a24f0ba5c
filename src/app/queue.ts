import type { ClaimedRun } from "../contract/runner.ts";
import type { Principal } from "../core/roles.ts";
import { tracer } from "../core/tracing.ts";
import { publicProviderConfig } from "../llm/config.ts";
import type { ClaimedRows, QueueStore } from "../store/queue-store.ts";
import { toApproved, toProject, toRun } from "../store/rows.ts";
import type { RunsTable } from "../store/schema.ts";
import type { AppContext } from "./context.ts";
import type { PrometheusMetrics } from "./prometheus.ts";

/**
 * The durable run queue as the services see it: claims and sweeps through the queue store
 * (src/store/queue-store.ts, which states the rules and has one implementation per database),
 * answered as the runner protocol's ClaimedRun and counted.
 *
 * The sweeper finds running runs whose lease expired; it runs at server start too, which recovers
 * the runs left behind while the server was down.
 */
export class QueueService {
  readonly #ctx: AppContext;
  readonly #prometheus: PrometheusMetrics;
  readonly #queue: QueueStore;

  constructor(ctx: AppContext, prometheus: PrometheusMetrics, queue: QueueStore) {
    this.#ctx = ctx;
    this.#prometheus = prometheus;
    this.#queue = queue;
  }

  async claim(principal: Principal, runnerId: string): Promise<ClaimedRun | undefined> {
    const started = Date.now();
    return this.claimed(await this.#queue.claim(principal, runnerId), started);
  }

  /**
   * A claim's rows (a claim, or a completion that claimed the next run) → the ClaimedRun a runner
   * gets: the executor as clients see it (`${VAR}` references, never values); counted.
   */
  claimed(rows: ClaimedRows | undefined, started?: number): ClaimedRun | undefined {
    if (!rows) return undefined;
    this.#prometheus.claims.inc();
    const traceContext = rows.run.trace_context ? claimSpan(rows.run, started) : undefined;
    return {
      run: toRun(rows.run),
      approved: toApproved(rows.approved),
      project: toProject(rows.project),
      lease_seconds: this.#ctx.config.leaseSeconds,
      executor: rows.executor ? publicProviderConfig(rows.executor) : null,
      ...(traceContext ? { trace_context: traceContext } : {}),
    };
  }

  /** Requeues (or fails) every running run whose lease has expired. Returns how many it moved. */
  sweep(principal: Principal): Promise<number> {
    return this.#queue.sweep(principal);
  }
}

/**
 * The claim as a span of the trace that queued the run (core/tracing.ts); its context goes to the
 * runner with the claim. Nothing when tracing is off.
 */
function claimSpan(run: RunsTable, started?: number): string | undefined {
  if (!tracer().enabled) return undefined;
  const span = tracer().startSpan("gimo.run.claim", {
    parent: run.trace_context,
    attributes: {
      "gimo.run_id": run.id,
      "gimo.attempt": run.attempt,
      "gimo.runner_id": run.lease_owner ?? "",
    },
    ...(started !== undefined ? { startTime: started } : {}),
  });
  span.end();
  return span.traceparent();
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
