import { EventEmitter } from "node:events";

/** Event types after which a queued run may have become claimable. */
export const QUEUE_EVENTS = new Set([
  "run.queued",
  "run.requeued",
  "run.retry",
  "run.lease_expired",
  "run.succeeded",
  "run.failed",
  "run.cancelled",
  "panic.off",
  "project.updated",
]);

/**
 * Wakes readers of the event log (SSE streams, long polls) when new events commit.
 * In-process only: the store calls `notify` after each commit. Readers always re-read the log
 * from the database, so a missed wake-up costs latency, never data.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  #lastSeq = 0;

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  /** Announces committed events up to `seq`; `queueChanged` wakes claimers (see QUEUE_EVENTS). */
  notify(seq: number, queueChanged = false): void {
    if (seq > this.#lastSeq) this.#lastSeq = seq;
    this.#emitter.emit("seq", seq);
    if (queueChanged) this.#emitter.emit("queue");
  }

  /** Resolves when something that may make a run claimable commits, after `timeoutMs`, or on abort. */
  waitForQueue(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#emitter.off("queue", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#emitter.on("queue", done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Resolves when an event after `afterSeq` is announced, after `timeoutMs`, or on abort. */
  wait(afterSeq: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#lastSeq > afterSeq || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#emitter.off("seq", onSeq);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const onSeq = (seq: number) => {
        if (seq > afterSeq) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#emitter.on("seq", onSeq);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
