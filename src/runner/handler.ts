/**
 * The work a runner does with a claimed run is a pluggable handler: the executor (worktree,
 * sandbox, agent loop) in production, small sleeping/failing/crashing handlers in tests.
 * It must stop promptly when `signal` aborts (cancellation, a lost lease, shutdown).
 */
export interface RunContext {
  signal: AbortSignal;
  log(level: LogLineInput["level"], msg: string, stepId?: string): void;
  step(update: StepUpdate): void;
}

export type HandlerOutcome = Omit<Completion, "status"> & { status: "succeeded" | "failed" };

export interface RunHandler {
  (job: ClaimedRun, ctx: RunContext): Promise<HandlerOutcome>;
  /**
   * It runs agent steps with the server's executor model (the built-in executor does): its runner
   * says so when it registers, and is then not given plans with agent steps while their project
   * has no executor.
   */
  usesExecutor?: boolean;
}

import type { ClaimedRun, Completion, LogLineInput, StepUpdate } from "../contract/runner.ts";
