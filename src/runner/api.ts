/**
 * What a runner needs from the server — the runner protocol of SPEC §6 as an interface. A remote
 * runner speaks it over HTTP (runner/http-api.ts); an embedded one calls the services directly
 * (src/embedded/runner-api.ts). Both go through the same fenced service calls.
 */
export interface RunnerRegistration {
  name: string;
  labels?: string[];
  capacity?: number;
  /** It runs agent steps with the server's executor model (the built-in executor). */
  uses_executor?: boolean;
}

export interface RunnerApi {
  register(input: RunnerRegistration): Promise<{ runner_id: string; lease_seconds: number }>;
  heartbeat(runnerId: string, stopping?: boolean): Promise<void>;
  /** A claimed run, or undefined when there was nothing to do within `waitSeconds`. */
  claim(runnerId: string, waitSeconds: number, signal?: AbortSignal): Promise<ClaimedRun | undefined>;
  extendLease(fence: Fence): Promise<{ cancel_requested: boolean }>;
  appendLogs(fence: Fence, lines: LogLineInput[]): Promise<void>;
  updateSteps(fence: Fence, steps: StepUpdate[]): Promise<void>;
  /**
   * Ends the attempt. With `claimNext`, the server also claims the next claimable run for this
   * runner in the same transaction and returns it (one round trip instead of two).
   */
  complete(
    fence: Fence,
    completion: Completion,
    options?: { claimNext?: boolean },
  ): Promise<ClaimedRun | undefined>;
  /** The integration operations allow-listed for the run's project, as tools (fenced). */
  integrationTools(fence: Fence): Promise<IntegrationTool[]>;
  /**
   * One integration call through the server's gateway (fenced): the server holds the secrets,
   * checks the allow-list, the arguments and the addresses, and audits the call.
   */
  callIntegration(
    fence: Fence,
    call: { integration: string; operation: string; args: Record<string, unknown> },
    signal?: AbortSignal,
  ): Promise<CallOutcome>;
}

/** The server says this runner no longer holds the run (409): stop and write nothing more. */
export class LeaseLost extends GimoError {
  constructor(message: string) {
    super("lease_lost", message);
    this.name = "LeaseLost";
  }
}

/** Panic mode is on (423): stop working; the lease will lapse and the run will be recovered later. */
export class PanicModeOn extends GimoError {
  constructor(message: string) {
    super("panic_mode", message);
    this.name = "PanicModeOn";
  }
}

import type { CallOutcome, IntegrationTool } from "../contract/integration.ts";
import type { ClaimedRun, Completion, Fence, LogLineInput, StepUpdate } from "../contract/runner.ts";
import { GimoError } from "../core/errors.ts";
