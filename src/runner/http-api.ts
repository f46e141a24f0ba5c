import { GimoClient, GimoClientError } from "../client/client.ts";
import { LeaseLost, PanicModeOn, type RunnerApi, type RunnerRegistration } from "./api.ts";

/**
 * The runner protocol over HTTP, for runners on other machines (`gimo runner --server URL`), on the
 * typed client. A 409 `lease_lost` becomes `LeaseLost` and a 423 `PanicModeOn`, the two answers
 * the runner loop acts on. Answers are not re-validated here: the claim is the runner's hottest
 * call (the queue bench counts it per run), and the runner checks what it uses of a claim itself.
 */
type Fence = Parameters<RunnerApi["extendLease"]>[0];

export class HttpRunnerApi implements RunnerApi {
  readonly #client: GimoClient;

  constructor(baseUrl: string, token: string) {
    this.#client = new GimoClient({ baseUrl, token, validate: false });
  }

  register(input: RunnerRegistration) {
    return this.#client.registerRunner(input);
  }

  heartbeat(runnerId: string, stopping = false): Promise<void> {
    return this.#client.heartbeat(runnerId, { stopping });
  }

  async claim(runnerId: string, waitSeconds: number, signal?: AbortSignal) {
    try {
      return await this.#client.claimRun({ runner_id: runnerId, wait_seconds: waitSeconds }, signal);
    } catch (error) {
      if (signal?.aborted) return undefined;
      throw error;
    }
  }

  extendLease(fence: Fence) {
    return this.#fenced(() => this.#client.extendLease(fence.runId, body(fence, {})));
  }

  async appendLogs(fence: Fence, lines: Parameters<RunnerApi["appendLogs"]>[1]): Promise<void> {
    await this.#fenced(() => this.#client.appendLogs(fence.runId, body(fence, { lines })));
  }

  async updateSteps(fence: Fence, steps: Parameters<RunnerApi["updateSteps"]>[1]): Promise<void> {
    await this.#fenced(() => this.#client.updateSteps(fence.runId, body(fence, { steps })));
  }

  async complete(
    fence: Fence,
    completion: Parameters<RunnerApi["complete"]>[1],
    options: { claimNext?: boolean } = {},
  ) {
    const extra = options.claimNext ? { ...completion, claim_next: true } : completion;
    const ended = await this.#fenced(() => this.#client.completeRun(fence.runId, body(fence, extra)));
    return ended.next ?? undefined;
  }

  async integrationTools(fence: Fence) {
    return (await this.#fenced(() => this.#client.runIntegrationTools(fence.runId, body(fence, {})))).tools;
  }

  callIntegration(...[fence, call, signal]: Parameters<RunnerApi["callIntegration"]>) {
    return this.#fenced(() =>
      this.#client.callRunIntegration(
        fence.runId,
        call.integration,
        call.operation,
        body(fence, { arguments: call.args }),
        signal,
      ),
    );
  }

  async #fenced<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof GimoClientError && error.code === "lease_lost") throw new LeaseLost(error.message);
      if (error instanceof GimoClientError && error.status === 423) throw new PanicModeOn(error.message);
      throw error;
    }
  }
}

function body<T extends object>(fence: Fence, extra: T) {
  return { runner_id: fence.runnerId, attempt: fence.attempt, ...extra };
}
