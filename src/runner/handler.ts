/**
 * The work a runner does with a claimed run is a pluggable handler: the executor (worktree,
 * sandbox, agent loop) in production, small sleeping/failing/crashing handlers in tests.
 * It must stop promptly when `signal` aborts (cancellation, a lost lease, shutdown).
 */
export interface RunContext {
  signal: AbortSignal;
  log(level: LogLineInput["level"], msg: string, stepId?: string): void;
  step(update: StepUpdate): void;
  /** The integrations allow-listed for the run's project, reached through the server's gateway. */
  integrations?: RunIntegrations;
}

export interface RunIntegrations {
  tools(): Promise<IntegrationTool[]>;
  call(
    call: { integration: string; operation: string; args: Record<string, unknown> },
    signal?: AbortSignal,
  ): Promise<CallOutcome>;
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

import type { CallOutcome, IntegrationTool } from "../contract/integration.ts";
import type { ClaimedRun, Completion, LogLineInput, StepUpdate } from "../contract/runner.ts";
