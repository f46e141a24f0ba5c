/**
 * What a run's steps look like while a handler works through them, so what the runner reports
 * reads true to a person following the run:
 *
 *   pending ──running──▶ running ──succeeded / failed / skipped──▶ finished
 *                           ▲                                          │
 *                           └────────── running again (a fix iteration reopens a step)
 *
 * - A log line the handler writes without a step belongs to the step running then (`stepOf`).
 * - A step that finishes without saying how many attempts it took took the attempts it was
 *   started for (one per `running`); a handler that counts them itself (a command step's retries)
 *   says so and wins.
 * - When the attempt ends in anything but success (`close`), the step still running is the one
 *   that failed (a stuck agent, a budget, a cancellation: never `succeeded`), and the steps never
 *   reached are skipped.
 */
export class StepTracker {
  readonly #status = new Map<string, StepUpdate["status"]>();
  readonly #attempts = new Map<string, number>();
  #current: string | undefined;

  /** `ids`: the run's steps in order, all pending at the start of an attempt. */
  constructor(ids: readonly string[]) {
    for (const id of ids) this.#status.set(id, "pending");
  }

  /** The step a log line without one belongs to: the one running now, if any. */
  stepOf(explicit: string | undefined): string | undefined {
    return explicit ?? this.#current;
  }

  /** Records a handler's update; returns the update to report (with its attempts filled in). */
  update(update: StepUpdate): StepUpdate {
    if (update.status === "running") {
      this.#current = update.id;
      const attempts = update.attempts ?? (this.#attempts.get(update.id) ?? 0) + 1;
      this.#attempts.set(update.id, attempts);
      this.#status.set(update.id, "running");
      return { ...update, attempts };
    }
    if (this.#current === update.id) this.#current = undefined;
    this.#status.set(update.id, update.status);
    const attempts = update.attempts ?? this.#attempts.get(update.id);
    if (attempts !== undefined) this.#attempts.set(update.id, attempts);
    return attempts === undefined ? update : { ...update, attempts };
  }

  /**
   * The updates that close the steps when an attempt ends without success: the running step
   * failed with `reason`, the pending ones were skipped. Nothing when the run succeeded.
   */
  close(succeeded: boolean, reason: string): StepUpdate[] {
    if (succeeded) return [];
    const updates: StepUpdate[] = [];
    for (const [id, status] of this.#status) {
      // The detail is bounded as the protocol bounds it (StepsBody: 4,000 characters).
      const detail = reason.length > 2_000 ? `${reason.slice(0, 2_000)}…` : reason;
      if (status === "running") updates.push(this.update({ id, status: "failed", detail }));
      else if (status === "pending") updates.push(this.update({ id, status: "skipped" }));
    }
    return updates;
  }
}

import type { StepUpdate } from "../contract/runner.ts";
