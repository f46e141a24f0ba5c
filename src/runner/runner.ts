import type { ClaimedRun, Completion, Fence, LogLineInput, StepUpdate } from "../contract/runner.ts";
import { backoff } from "../core/backoff.ts";
import { runFailure } from "../core/run-failures.ts";
import { tracer } from "../core/tracing.ts";
import type { Logger } from "../log.ts";
import { LeaseLost, PanicModeOn, type RunnerApi } from "./api.ts";
import type { HandlerOutcome, RunHandler } from "./handler.ts";
import { StepTracker } from "./step-tracker.ts";

/**
 * A runner: claims runs and executes them with a handler, `concurrency` at a time.
 *
 * Life of one claimed run here:
 *   claim ─▶ handler running ─┬─ lease extended every lease/3; `cancel_requested` → abort("cancelled")
 *                              ├─ log lines and step updates flushed in batches every 200 ms
 *                              └─ lease lost (409) → abort("lease_lost"), write nothing more
 *          ─▶ complete(outcome) — or `cancelled`, or, when the runner is stopping and had to
 *             interrupt the work, a retryable failure so the run is requeued for another runner.
 *             The completion also claims the next run (`claim_next`) unless the runner is
 *             stopping: while there is a backlog, a slot goes from run to run in one call each.
 *
 * Errors talking to the server (it restarted, the network blinked) never kill the runner: claims
 * back off and retry, lease extensions retry on the next tick, and if the server stays away past
 * the lease, the sweeper requeues the run and this runner's late calls get 409.
 */
export interface RunnerOptions {
  api: RunnerApi;
  handler: RunHandler;
  name: string;
  labels?: string[];
  concurrency?: number;
  claimWaitSeconds?: number;
  heartbeatMs?: number;
  flushMs?: number;
  logger: Logger;
}

type AbortReason = "cancelled" | "lease_lost" | "runner_stopping" | "panic";

export class Runner {
  readonly #o: Required<Omit<RunnerOptions, "labels">> & { labels: string[] };
  readonly #stopping = new AbortController();
  readonly #active = new Map<string, AbortController>();
  readonly #slots: Promise<void>[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #id: string | undefined;
  #leaseSeconds = 30;

  constructor(options: RunnerOptions) {
    this.#o = {
      concurrency: 1,
      claimWaitSeconds: 20,
      heartbeatMs: 10_000,
      flushMs: 200,
      labels: [],
      ...options,
    };
  }

  get id(): string | undefined {
    return this.#id;
  }

  /** Registers (retrying until the server answers) and starts the claim loops. */
  async start(): Promise<void> {
    const { api, name, labels, concurrency } = this.#o;
    for (let failures = 0; ; failures++) {
      try {
        const reg = await api.register({
          name,
          labels,
          capacity: concurrency,
          ...(this.#o.handler.usesExecutor ? { uses_executor: true } : {}),
        });
        this.#id = reg.runner_id;
        this.#leaseSeconds = reg.lease_seconds;
        break;
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        this.#o.logger.warn("runner registration failed; retrying", { error: String(error) });
        await sleep(backoffMs(failures), this.#stopping.signal);
      }
    }
    this.#heartbeat = setInterval(() => {
      if (this.#id) api.heartbeat(this.#id).catch(() => {});
    }, this.#o.heartbeatMs);
    for (let i = 0; i < concurrency; i++) this.#slots.push(this.#slot());
    this.#o.logger.info("runner started", { runner_id: this.#id, name, concurrency });
  }

  async #slot(): Promise<void> {
    const runnerId = this.#id as string;
    for (let failures = 0; !this.#stopping.signal.aborted; ) {
      try {
        let job = await this.#o.api.claim(runnerId, this.#o.claimWaitSeconds, this.#stopping.signal);
        failures = 0;
        // While there is work, each completion claims the next run in the same call.
        while (job) job = await this.#execute(job);
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        failures++;
        this.#o.logger.warn("claim failed; retrying", { error: String(error), failures });
        await sleep(backoffMs(failures), this.#stopping.signal);
      }
    }
  }

  /** Runs one claimed run to its end; returns the next run when the completion claimed one. */
  async #execute(job: ClaimedRun): Promise<ClaimedRun | undefined> {
    const api = this.#o.api;
    const fence: Fence = { runId: job.run.id, attempt: job.run.attempt, runnerId: this.#id as string };
    const abort = new AbortController();
    this.#active.set(fence.runId, abort);
    let lost = false;
    const stop = (reason: AbortReason) => {
      if (reason === "lease_lost" && !lost) this.#leaseLost(fence, "mid-run");
      if (reason === "lease_lost") lost = true;
      if (!abort.signal.aborted) abort.abort(reason);
    };
    const lines: LogLineInput[] = [];
    const steps: StepUpdate[] = [];
    const tracker = new StepTracker(job.run.steps.map((s) => s.id));
    // One flush at a time: the final flush waits for the timer's flush in flight, so no line or
    // step update it carries can land after the completion (where the fence refuses it).
    let flushing: Promise<void> = Promise.resolve();
    const flushOnce = async () => {
      if (lost) return;
      const batch = lines.splice(0);
      const stepBatch = steps.splice(0);
      try {
        if (batch.length > 0) await api.appendLogs(fence, batch);
        if (stepBatch.length > 0) await api.updateSteps(fence, stepBatch);
      } catch (error) {
        if (error instanceof LeaseLost) stop("lease_lost");
        else if (error instanceof PanicModeOn) stop("panic");
        else {
          lines.unshift(...batch);
          steps.unshift(...stepBatch);
        }
      }
    };
    const flush = () => {
      flushing = flushing.then(flushOnce);
      return flushing;
    };
    /** The last flush before the end: retried while the server does not answer, as the end is. */
    const flushAll = async () => {
      for (let failures = 0; failures < 8; failures++) {
        await flush();
        if (lost || (lines.length === 0 && steps.length === 0)) return;
        await sleep(backoffMs(failures));
      }
    };
    const leaseTimer = setInterval(
      () => {
        api.extendLease(fence).then(
          (r) => r.cancel_requested && stop("cancelled"),
          (error) => {
            if (error instanceof LeaseLost) stop("lease_lost");
            else if (error instanceof PanicModeOn) stop("panic");
          },
        );
      },
      (this.#leaseSeconds * 1000) / 3,
    );
    const flushTimer = setInterval(() => void flush(), this.#o.flushMs);
    try {
      const outcome = await this.#traced(job, () =>
        this.#o.handler(job, {
          signal: abort.signal,
          log: (level, msg, stepId) =>
            lines.push({ ts: new Date().toISOString(), level, msg, step_id: tracker.stepOf(stepId) }),
          step: (update) => steps.push(tracker.update(update)),
          integrations: {
            tools: () => this.#fencedCall(() => api.integrationTools(fence), stop),
            call: (call, signal) => this.#fencedCall(() => api.callIntegration(fence, call, signal), stop),
          },
        }),
      ).catch(
        (error: unknown): HandlerOutcome => ({
          status: "failed",
          error: runFailure("handler_error", error instanceof Error ? error.message : String(error)),
        }),
      );
      clearInterval(leaseTimer);
      clearInterval(flushTimer);
      const completion = completionFor(outcome, abort.signal.reason as AbortReason | undefined);
      steps.push(
        ...tracker.close(completion.status === "succeeded", completion.error?.message ?? completion.status),
      );
      await flushAll();
      if (lost || abort.signal.reason === "panic") return undefined;
      return await this.#complete(fence, completion);
    } finally {
      clearInterval(leaseTimer);
      clearInterval(flushTimer);
      this.#active.delete(fence.runId);
    }
  }

  /** A fenced call made during the run: a lost lease or panic stops the run, as the lease timer would. */
  /**
   * The handler's work as one span, a child of the claim's span when the claim carries a trace
   * context (core/tracing.ts), so the run's steps join the trace of the request that queued it.
   */
  #traced(job: ClaimedRun, work: () => Promise<HandlerOutcome>): Promise<HandlerOutcome> {
    if (!tracer().enabled) return work();
    const attributes = { "gimo.run_id": job.run.id, "gimo.attempt": job.run.attempt };
    return tracer().inSpan(
      "gimo.run.execute",
      { parent: job.trace_context ?? null, attributes },
      async (span) => {
        const outcome = await work();
        span.setAttributes({ "gimo.status": outcome.status });
        return outcome;
      },
    );
  }

  async #fencedCall<T>(call: () => Promise<T>, stop: (reason: AbortReason) => void): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof LeaseLost) stop("lease_lost");
      else if (error instanceof PanicModeOn) stop("panic");
      throw error;
    }
  }

  /**
   * Reports the end, retrying transport errors. While the runner is not stopping, the
   * first report also claims the next run. If its answer is lost after it landed, the retry gets
   * `lease_lost` and the run it claimed waits for its lease to lapse (the sweeper requeues it).
   */
  async #complete(fence: Fence, completion: Completion): Promise<ClaimedRun | undefined> {
    for (let failures = 0; failures < 8; failures++) {
      try {
        const claimNext = failures === 0 && !this.#stopping.signal.aborted;
        return await this.#o.api.complete(fence, completion, { claimNext });
      } catch (error) {
        if (error instanceof LeaseLost) this.#leaseLost(fence, "at its end");
        if (error instanceof LeaseLost || error instanceof PanicModeOn) return undefined;
        await sleep(backoffMs(failures));
      }
    }
    this.#o.logger.error("could not report the end of a run; its lease will lapse", { run_id: fence.runId });
    return undefined;
  }

  /** A 409 on a fenced call: this attempt's reports are refused from now on. */
  #leaseLost(fence: Fence, when: string): void {
    // 409: the run went to a newer attempt (this one's lease lapsed), or it already ended (an
    // earlier copy of this report landed and its answer was lost).
    this.#o.logger.warn("lease lost: the server refused this attempt's report (409)", {
      run_id: fence.runId,
      attempt: fence.attempt,
      when,
    });
  }

  /**
   * Graceful stop: no new claims; running work gets `graceMs` to finish, then is interrupted and
   * handed back (a retryable failure, so another runner picks it up).
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping.abort();
    clearInterval(this.#heartbeat);
    const deadline = Date.now() + graceMs;
    while (this.#active.size > 0 && Date.now() < deadline) await sleep(50);
    for (const abort of this.#active.values()) abort.abort("runner_stopping");
    const bail = new AbortController();
    await Promise.race([Promise.allSettled(this.#slots), sleep(graceMs + 5_000, bail.signal)]);
    bail.abort();
    if (this.#id) await this.#o.api.heartbeat(this.#id, true).catch(() => {});
  }
}

function completionFor(outcome: HandlerOutcome, reason: AbortReason | undefined): Completion {
  if (reason === "cancelled") return { status: "cancelled", error: runFailure("cancelled") };
  if (reason === "runner_stopping") return { status: "failed", error: runFailure("runner_stopping") };
  return outcome;
}

/** After `failures` failed calls in a row: 0.2 s doubling up to 10 s, jittered (core/backoff). */
function backoffMs(failures: number): number {
  return backoff(failures + 1, 200, 10_000);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
