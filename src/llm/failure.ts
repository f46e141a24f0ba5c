import { APICallError } from "@ai-sdk/provider";
import { retryableKind } from "../core/retryable-errors.ts";

/**
 * What went wrong with one attempt at a model call, reduced to what the retry policy needs.
 *
 * | kind           | from                                                        | retried               |
 * |----------------|-------------------------------------------------------------|-----------------------|
 * | `rate_limited` | HTTP 429                                                    | yes, after Retry-After |
 * | `transient`    | HTTP 408/425/5xx, connection reset, broken stream, timeout  | yes, with backoff     |
 * | `unreachable`  | connection refused, unknown host, no route                  | once, then fail fast  |
 * | `rejected`     | any other HTTP 4xx, unsupported request                     | no                    |
 * | `aborted`      | the caller's AbortSignal                                    | no (rethrown as is)   |
 */
export type Failure =
  | { kind: "rate_limited"; status: number; retryAfterMs: number | undefined; message: string }
  | { kind: "transient"; status?: number; message: string }
  | { kind: "unreachable"; message: string }
  | { kind: "rejected"; status?: number; message: string }
  | { kind: "aborted"; reason: unknown };

const transientStatuses = new Set([408, 409, 425]);

export interface ClassifyContext {
  /** The caller's signal: when it fired, the failure is an abort, not a provider problem. */
  callerSignal: AbortSignal | undefined;
  /** True when the attempt's own timeout fired. */
  timedOut: boolean;
  timeoutMs: number;
  now: number;
}

export function classifyFailure(error: unknown, ctx: ClassifyContext): Failure {
  if (ctx.callerSignal?.aborted) return { kind: "aborted", reason: ctx.callerSignal.reason };
  if (ctx.timedOut) return { kind: "transient", message: `no complete answer within ${ctx.timeoutMs} ms` };
  if (APICallError.isInstance(error) && error.statusCode !== undefined) {
    const status = error.statusCode;
    const message = `HTTP ${status}${describe(error.message)}`;
    if (status === 429) {
      return {
        kind: "rate_limited",
        status,
        retryAfterMs: retryAfterMs(error.responseHeaders, ctx.now),
        message,
      };
    }
    if (status >= 500 || transientStatuses.has(status)) return { kind: "transient", status, message };
    return { kind: "rejected", status, message };
  }
  const code = networkCode(error);
  if (code !== undefined && retryableKind(code) === "unreachable") {
    return { kind: "unreachable", message: `cannot connect (${code})` };
  }
  if (code !== undefined) return { kind: "transient", message: `connection failed (${code})` };
  if (APICallError.isInstance(error)) return { kind: "transient", message: describe(error.message).slice(2) };
  const name = error instanceof Error ? error.name : "";
  const text = error instanceof Error ? error.message : String(error);
  if (/AbortError|TimeoutError/.test(name)) return { kind: "transient", message: "the request was aborted" };
  if (
    /InvalidResponseData|JSONParse|TypeValidation|EmptyResponseBody|StreamError/.test(name) ||
    /terminated/i.test(text)
  ) {
    return { kind: "transient", message: `invalid or interrupted response: ${truncate(text)}` };
  }
  return { kind: "rejected", message: truncate(text) };
}

/**
 * Milliseconds a 429 asks us to wait: `retry-after-ms` (OpenAI), else `retry-after` as seconds or
 * as an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Record<string, string> | undefined, now: number): number | undefined {
  if (headers === undefined) return undefined;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const ms = lower["retry-after-ms"];
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = lower["retry-after"];
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function networkCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

function describe(message: string): string {
  const text = message.trim();
  return text === "" ? "" : `: ${truncate(text)}`;
}

function truncate(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
