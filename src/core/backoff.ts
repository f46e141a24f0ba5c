/**
 * The one backoff of GIMO: exponential with jitter. Attempt n waits between half and all of
 * `base · 2^(n-1)`, capped, in the unit of `base` (seconds for the queue's retries, milliseconds for
 * a client's reconnects). The jitter keeps many runs that failed together from coming back
 * together; a caller that wants the plain exponential (a single reconnecting listener) passes
 * `noJitter`. Its users: the queue's retries (store/queue-store.ts, app/run-reports.ts), model
 * provider retries (llm/retry.ts), the runner's reconnects (runner/runner.ts), the client's SSE
 * resume (client/sse.ts), the LISTEN connection (store/pg-listener.ts), Telegram polling.
 */
export function backoff(attempt: number, base: number, cap = 300, random = Math.random): number {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** For `backoff`: always the ceiling. */
export const noJitter = (): number => 1;
