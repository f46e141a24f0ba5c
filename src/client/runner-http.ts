import type { ClaimedRun, Completion, Fence, LogLineInput, StepUpdate } from "../contract/runner.ts";
import { LeaseLost, PanicModeOn, type RunnerApi } from "../runner/api.ts";
import { GimoClientError, GimoHttpClient } from "./http.ts";

/** The runner protocol over HTTP, for runners on other machines (`gimo runner --server URL`). */
export class HttpRunnerApi implements RunnerApi {
  readonly #http: GimoHttpClient;

  constructor(baseUrl: string, token: string) {
    this.#http = new GimoHttpClient({ baseUrl, token });
  }

  async register(input: { name: string; labels?: string[]; capacity?: number }) {
    const res = await this.#http.request<{ runner_id: string; lease_seconds: number }>(
      "POST",
      "/ops/runners/register",
      input,
    );
    return res.body as { runner_id: string; lease_seconds: number };
  }

  async heartbeat(runnerId: string, stopping = false): Promise<void> {
    await this.#http.request("POST", `/ops/runners/${runnerId}/heartbeat`, { stopping });
  }

  async claim(runnerId: string, waitSeconds: number, signal?: AbortSignal): Promise<ClaimedRun | undefined> {
    try {
      const res = await this.#http.request<ClaimedRun>(
        "POST",
        "/ops/runs/claim",
        { runner_id: runnerId, wait_seconds: waitSeconds },
        { signal, extraTimeoutMs: waitSeconds * 1000 },
      );
      return res.status === 200 ? res.body : undefined;
    } catch (error) {
      if (signal?.aborted) return undefined;
      throw error;
    }
  }

  async extendLease(fence: Fence) {
    const res = await this.#fenced<{ cancel_requested: boolean }>(fence, "lease", {});
    return res ?? { cancel_requested: false };
  }

  async appendLogs(fence: Fence, lines: LogLineInput[]): Promise<void> {
    await this.#fenced(fence, "logs", { lines });
  }

  async updateSteps(fence: Fence, steps: StepUpdate[]): Promise<void> {
    await this.#fenced(fence, "steps", { steps });
  }

  async complete(fence: Fence, completion: Completion, options: { claimNext?: boolean } = {}) {
    const body = options.claimNext ? { ...completion, claim_next: true } : completion;
    const ended = await this.#fenced<{ next?: ClaimedRun | null }>(fence, "complete", body);
    return ended?.next ?? undefined;
  }

  async #fenced<T>(fence: Fence, action: string, body: object): Promise<T | undefined> {
    try {
      const res = await this.#http.request<T>("POST", `/ops/runs/${fence.runId}/${action}`, {
        runner_id: fence.runnerId,
        attempt: fence.attempt,
        ...body,
      });
      return res.body;
    } catch (error) {
      if (error instanceof GimoClientError && error.code === "lease_lost") throw new LeaseLost(error.message);
      if (error instanceof GimoClientError && error.status === 423) throw new PanicModeOn(error.message);
      throw error;
    }
  }
}
