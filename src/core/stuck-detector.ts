import { createHash } from "node:crypto";
import { GimoError } from "./errors.ts";

/**
 * Ends an agent that goes round in circles (SPEC §4.1): the same action with the same
 * observation 4 times, or the same error 3 times, within one run. Actions are compared by tool
 * name and arguments, observations and errors by their text (whitespace-normalised), so a model
 * rereading an unchanged file or re-running a command that fails the same way is caught, while
 * the same command giving new output is progress.
 */
export const SAME_ACTION_LIMIT = 4;
export const SAME_ERROR_LIMIT = 3;

export class Stuck extends GimoError {
  constructor(message: string) {
    super("unprocessable", message);
    this.name = "Stuck";
  }
}

const digest = (text: string) => createHash("sha256").update(text.replace(/\s+/g, " ").trim()).digest("hex");

export class StuckDetector {
  readonly #actions = new Map<string, number>();
  readonly #errors = new Map<string, number>();

  /** Records one tool call and what it returned; throws `Stuck` at the limit. */
  record(action: string, args: unknown, observation: string, isError: boolean): void {
    const key = digest(`${action}\u0000${JSON.stringify(args)}\u0000${observation}`);
    const seen = (this.#actions.get(key) ?? 0) + 1;
    this.#actions.set(key, seen);
    if (seen >= SAME_ACTION_LIMIT) {
      throw new Stuck(`the agent repeated ${action} with the same result ${seen} times`);
    }
    if (isError) this.recordError(observation);
  }

  /** Records an error (a failing tool, the same failing test output); throws `Stuck` at the limit. */
  recordError(error: string): void {
    const key = digest(error);
    const seen = (this.#errors.get(key) ?? 0) + 1;
    this.#errors.set(key, seen);
    if (seen >= SAME_ERROR_LIMIT)
      throw new Stuck(`the agent hit the same error ${seen} times: ${error.slice(0, 200)}`);
  }
}
