import type { HandlerOutcome } from "./handler.ts";

/** A failure of the work itself (red tests, a refused command, no changes…): the run fails with `failure`. */
export type Failure = NonNullable<HandlerOutcome["error"]>;

export class RunFailed extends Error {
  readonly failure: Failure;
  readonly result: Record<string, unknown>;
  constructor(failure: Failure, result: Record<string, unknown> = {}) {
    super(failure.message);
    this.failure = failure;
    this.result = result;
  }
}
