import { backoff } from "../core/backoff.ts";
import { GimoError } from "../core/errors.ts";
import type { CallSettings } from "./config.ts";
import { ProviderRateLimited, ProviderRejected, ProviderUnavailable } from "./errors.ts";
import { classifyFailure, type Failure } from "./failure.ts";

/**
 * Runs one model call with a per-attempt timeout and retries (see the table in failure.ts):
 * rate limits wait out `Retry-After` (plus a little jitter) unless it asks for more than
 * `maxRetryWaitMs`, in which case the caller gets `ProviderRateLimited` at once and can reschedule;
 * transient failures back off exponentially with jitter (capped at `retryMaxMs`); an unreachable
 * server is tried once more, then reported, so a provider that is down fails fast.
 */
export interface RetryInfo {
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface RetryDeps {
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  random?: () => number;
  now?: () => number;
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryContext extends RetryDeps {
  settings: CallSettings;
  /** Names the provider in error messages (no secrets). */
  provider: string;
  /** Scrubs secrets out of any text that reaches an error message. */
  redact: (text: string) => string;
  signal?: AbortSignal | undefined;
}

const maxConnectRetries = 1;

export async function withRetries<T>(
  call: (signal: AbortSignal) => Promise<T>,
  ctx: RetryContext,
): Promise<T> {
  const { settings } = ctx;
  const now = ctx.now ?? Date.now;
  const random = ctx.random ?? Math.random;
  const sleep = ctx.sleep ?? abortableSleep;
  let connectRetries = 0;
  for (let retries = 0; ; retries++) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error("timeout")), settings.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout.signal]) : timeout.signal;
    let failure: Failure;
    try {
      return await call(signal);
    } catch (error) {
      if (error instanceof GimoError) throw error;
      failure = classifyFailure(error, {
        callerSignal: ctx.signal,
        timedOut: timeout.signal.aborted,
        timeoutMs: settings.timeoutMs,
        now: now(),
      });
    } finally {
      clearTimeout(timer);
    }
    if (failure.kind === "aborted") throw failure.reason;
    const delayMs = nextDelay(failure, retries, connectRetries, settings, random);
    if (delayMs === undefined) throw toProviderError(failure, ctx, retries + 1);
    if (failure.kind === "unreachable") connectRetries++;
    ctx.onRetry?.({ attempt: retries + 1, delayMs, reason: ctx.redact(failure.message) });
    await sleep(delayMs, ctx.signal);
  }
}

/** How long to wait before the next attempt, or undefined to give up now. Pure. */
export function nextDelay(
  failure: Failure,
  retriesDone: number,
  connectRetriesDone: number,
  settings: CallSettings,
  random: () => number = Math.random,
): number | undefined {
  if (failure.kind === "aborted" || failure.kind === "rejected") return undefined;
  if (retriesDone >= settings.maxRetries) return undefined;
  if (failure.kind === "unreachable" && connectRetriesDone >= maxConnectRetries) return undefined;
  if (failure.kind === "rate_limited" && failure.retryAfterMs !== undefined) {
    if (failure.retryAfterMs > settings.maxRetryWaitMs) return undefined;
    return failure.retryAfterMs + Math.round(random() * Math.min(1_000, failure.retryAfterMs * 0.1));
  }
  return Math.round(backoff(retriesDone + 1, settings.retryBaseMs, settings.retryMaxMs, random));
}

function toProviderError(failure: Failure, ctx: RetryContext, attempts: number): Error {
  const message = ctx.redact(failure.kind === "aborted" ? "aborted" : failure.message);
  const after = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  switch (failure.kind) {
    case "rate_limited": {
      const seconds = failure.retryAfterMs === undefined ? undefined : Math.ceil(failure.retryAfterMs / 1000);
      const hint = seconds === undefined ? "" : `; retry after ${seconds} s`;
      return new ProviderRateLimited(ctx.provider, seconds, `${message}${hint}${after}`);
    }
    case "rejected":
      return new ProviderRejected(ctx.provider, failure.status, `${message}${rejectionHint(failure.status)}`);
    default:
      return new ProviderUnavailable(ctx.provider, `${message}${after}`);
  }
}

function rejectionHint(status: number | undefined): string {
  if (status === 401 || status === 403) return " (check the API key)";
  if (status === 404) return " (check base_url and model)";
  return "";
}

export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
