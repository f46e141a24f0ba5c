import { claimWaiting } from "../app/queue.ts";
import type { Services } from "../app/services.ts";
import { GimoError } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { LeaseLost, PanicModeOn, type RunnerApi, type RunnerRegistration } from "../runner/api.ts";

/**
 * The runner protocol for runners embedded in `gimo serve`: the same fenced service calls as the
 * HTTP routes, without the loopback hop.
 */
export class LocalRunnerApi implements RunnerApi {
  readonly #s: Services;
  readonly #principal: Principal = { actor: "embedded-runner", role: "runner", tokenId: null };

  constructor(services: Services) {
    this.#s = services;
  }

  register(input: RunnerRegistration) {
    return this.#s.runners.register(this.#principal, input);
  }

  async heartbeat(runnerId: string, stopping = false): Promise<void> {
    await this.#s.runners.heartbeat(this.#principal, runnerId, stopping);
  }

  async claim(runnerId: string, waitSeconds: number, signal?: AbortSignal) {
    await this.#s.runners.assertKnown(runnerId);
    return claimWaiting(this.#s.ctx, this.#s.queue, this.#principal, runnerId, waitSeconds, signal);
  }

  extendLease(fence: Parameters<RunnerApi["extendLease"]>[0]) {
    return translate(() => this.#s.reports.extendLease(this.#principal, fence));
  }

  async appendLogs(...[fence, lines]: Parameters<RunnerApi["appendLogs"]>): Promise<void> {
    await translate(() => this.#s.reports.appendLogs(this.#principal, fence, lines, null));
  }

  async updateSteps(...[fence, steps]: Parameters<RunnerApi["updateSteps"]>): Promise<void> {
    await translate(() => this.#s.reports.updateSteps(this.#principal, fence, steps));
  }

  async complete(...[fence, completion, options]: Parameters<RunnerApi["complete"]>) {
    const ended = await translate(() =>
      this.#s.reports.complete(this.#principal, fence, completion, options),
    );
    return ended.next ?? undefined;
  }

  async integrationTools(fence: Parameters<RunnerApi["integrationTools"]>[0]) {
    const run = await translate(() => this.#s.reports.held(fence));
    return this.#s.integrations.toolsFor(run.project_id);
  }

  async callIntegration(...[fence, call, signal]: Parameters<RunnerApi["callIntegration"]>) {
    const run = await translate(() => this.#s.reports.held(fence));
    return translate(() =>
      this.#s.gateway.call({
        integration: call.integration,
        operation: call.operation,
        args: call.args,
        caller: "run",
        projectId: run.project_id,
        runId: fence.runId,
        principal: this.#principal,
        ...(signal ? { signal } : {}),
      }),
    );
  }
}

async function translate<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GimoError && error.code === "lease_lost") throw new LeaseLost(error.message);
    if (error instanceof GimoError && error.code === "panic_mode") throw new PanicModeOn(error.message);
    throw error;
  }
}
