/**
 * A failure of the work itself (red tests, a refused command, no changes…): the executor throws
 * `RunFailed` and the run fails with its `failure`, whose code is one of core/run-failures.ts.
 */
import { GimoError } from "../core/errors.ts";
import type { RunFailureCode } from "../core/run-failures.ts";
import type { HandlerOutcome } from "./handler.ts";

export type Failure = NonNullable<HandlerOutcome["error"]> & { code: RunFailureCode };

export class RunFailed extends GimoError {
  readonly failure: Failure;
  readonly result: Record<string, unknown>;
  constructor(failure: Failure, result: Record<string, unknown> = {}) {
    super("unprocessable", failure.message, { code: failure.code });
    this.name = "RunFailed";
    this.failure = failure;
    this.result = result;
  }
}
