import { GimoClient, GimoClientError } from "../client/client.ts";
import { LeaseLost, PanicModeOn, type RunnerApi, type RunnerRegistration } from "./api.ts";

/**
 * The runner protocol over HTTP, for runners on other machines (`gimo runner --server URL`), on the
 * typed client. A 409 `lease_lost` becomes `LeaseLost` and a 423 `PanicModeOn`, the two answers
 * the runner loop acts on. Answers are not re-validated here: the claim is the runner's hottest
 * call (the queue bench counts it per run), and the runner checks what it uses of a claim itself.
 *
 * Several server URLs (replicas of one database) give failover: calls go to the current one, and a
 * call that fails at the connection level (refused, reset, unreachable, timed out — no HTTP answer
 * at all) is tried once on each of the others in turn; the first that answers becomes current. An
 * HTTP answer, 4xx or 5xx, is the server's word and is never retried elsewhere. A call that landed
 * before its connection broke may be repeated on another replica: the runner protocol is fenced, so
 * the repeat is answered 409 and the runner loop already handles that.
 */
type Fence = Parameters<RunnerApi["extendLease"]>[0];

export class HttpRunnerApi implements RunnerApi {
  readonly #clients: GimoClient[];
  #current = 0;

  constructor(baseUrls: string | string[], token: string) {
    const urls = typeof baseUrls === "string" ? [baseUrls] : baseUrls;
    if (urls.length === 0) throw new Error("a runner needs at least one server URL");
    this.#clients = urls.map((baseUrl) => new GimoClient({ baseUrl, token, validate: false }));
  }

  /** The server the next call goes to. */
  get currentUrl(): string {
    return (this.#clients[this.#current] as GimoClient).baseUrl;
  }

  /** `call` on the current server, then on each other one while the failure is a connection's. */
  async #onAny<T>(call: (client: GimoClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let tried = 1; ; tried++) {
      const index = this.#current;
      try {
        return await call(this.#clients[index] as GimoClient);
      } catch (error) {
        if (error instanceof GimoClientError || signal?.aborted || tried >= this.#clients.length) throw error;
        // Another call may have moved on already; only the first to fail here moves the pointer.
        if (this.#current === index) this.#current = (index + 1) % this.#clients.length;
      }
    }
  }

  register(input: RunnerRegistration) {
    return this.#onAny((c) => c.registerRunner(input));
  }

  heartbeat(runnerId: string, stopping = false): Promise<void> {
    return this.#onAny((c) => c.heartbeat(runnerId, { stopping }));
  }

  async claim(runnerId: string, waitSeconds: number, signal?: AbortSignal) {
    try {
      return await this.#onAny(
        (c) => c.claimRun({ runner_id: runnerId, wait_seconds: waitSeconds }, signal),
        signal,
      );
    } catch (error) {
      if (signal?.aborted) return undefined;
      throw error;
    }
  }

  extendLease(fence: Fence) {
    return this.#fenced((c) => c.extendLease(fence.runId, body(fence, {})));
  }

  async appendLogs(fence: Fence, lines: Parameters<RunnerApi["appendLogs"]>[1]): Promise<void> {
    await this.#fenced((c) => c.appendLogs(fence.runId, body(fence, { lines })));
  }

  async updateSteps(fence: Fence, steps: Parameters<RunnerApi["updateSteps"]>[1]): Promise<void> {
    await this.#fenced((c) => c.updateSteps(fence.runId, body(fence, { steps })));
  }

  async complete(
    fence: Fence,
    completion: Parameters<RunnerApi["complete"]>[1],
    options: { claimNext?: boolean } = {},
  ) {
    const extra = options.claimNext ? { ...completion, claim_next: true } : completion;
    const ended = await this.#fenced((c) => c.completeRun(fence.runId, body(fence, extra)));
    return ended.next ?? undefined;
  }

  async integrationTools(fence: Fence) {
    return (await this.#fenced((c) => c.runIntegrationTools(fence.runId, body(fence, {})))).tools;
  }

  callIntegration(...[fence, call, signal]: Parameters<RunnerApi["callIntegration"]>) {
    return this.#fenced(
      (c) =>
        c.callRunIntegration(
          fence.runId,
          call.integration,
          call.operation,
          body(fence, { arguments: call.args }),
          signal,
        ),
      signal,
    );
  }

  async #fenced<T>(call: (client: GimoClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await this.#onAny(call, signal);
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
