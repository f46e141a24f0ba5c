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
 *
 * A server can also be silent: stopped (SIGSTOP), or cut off after the connection was made. The
 * calls that keep a lease alive — heartbeats and lease extensions — give up on a silent server
 * after half the lease the server announced at registration (at least a second), so the next one
 * is tried, and the lease renewed there, before it lapses. Other calls keep the client's 30 s:
 * an end may wait in a batch, and an integration call may run long.
 */
type Fence = Parameters<RunnerApi["extendLease"]>[0];

export class HttpRunnerApi implements RunnerApi {
  readonly #urls: string[];
  readonly #token: string;
  readonly #clients: GimoClient[];
  /** The same servers, for the calls that keep a lease alive: timed out at half the lease. */
  #leaseKeepers: GimoClient[];
  #current = 0;

  constructor(baseUrls: string | string[], token: string) {
    const urls = typeof baseUrls === "string" ? [baseUrls] : baseUrls;
    if (urls.length === 0) throw new Error("a runner needs at least one server URL");
    this.#urls = urls;
    this.#token = token;
    this.#clients = this.#connect();
    this.#leaseKeepers = this.#clients;
  }

  #connect(timeoutMs?: number): GimoClient[] {
    return this.#urls.map(
      (baseUrl) => new GimoClient({ baseUrl, token: this.#token, validate: false, timeoutMs }),
    );
  }

  /** The server the next call goes to. */
  get currentUrl(): string {
    return (this.#clients[this.#current] as GimoClient).baseUrl;
  }

  /** `call` on the current server, then on each other one while the failure is a connection's. */
  async #onAny<T>(
    call: (client: GimoClient) => Promise<T>,
    signal?: AbortSignal,
    clients = this.#clients,
  ): Promise<T> {
    for (let tried = 1; ; tried++) {
      const index = this.#current;
      try {
        return await call(clients[index] as GimoClient);
      } catch (error) {
        if (error instanceof GimoClientError || signal?.aborted || tried >= this.#clients.length) throw error;
        // Another call may have moved on already; only the first to fail here moves the pointer.
        if (this.#current === index) this.#current = (index + 1) % this.#clients.length;
      }
    }
  }

  async register(input: RunnerRegistration) {
    const registered = await this.#onAny((c) => c.registerRunner(input));
    this.#leaseKeepers = this.#connect(Math.max(1_000, registered.lease_seconds * 500));
    return registered;
  }

  heartbeat(runnerId: string, stopping = false): Promise<void> {
    return this.#onAny((c) => c.heartbeat(runnerId, { stopping }), undefined, this.#leaseKeepers);
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
    return this.#fenced((c) => c.extendLease(fence.runId, body(fence, {})), undefined, this.#leaseKeepers);
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

  async #fenced<T>(
    call: (client: GimoClient) => Promise<T>,
    signal?: AbortSignal,
    clients = this.#clients,
  ): Promise<T> {
    try {
      return await this.#onAny(call, signal, clients);
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
