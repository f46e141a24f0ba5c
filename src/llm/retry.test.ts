import { APICallError } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { callSettings } from "./config.ts";
import { ProviderRateLimited, ProviderUnavailable } from "./errors.ts";
import { classifyFailure, retryAfterMs } from "./failure.ts";
import { nextDelay, type RetryInfo, withRetries } from "./retry.ts";

const settings = callSettings({
  max_retries: 3,
  retry_base_ms: 1_000,
  retry_max_ms: 5_000,
  max_retry_wait_ms: 30_000,
});
const httpError = (statusCode: number, headers: Record<string, string> = {}) =>
  new APICallError({
    message: "boom",
    url: "http://x",
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
  });
const ctx = {
  callerSignal: undefined,
  timedOut: false,
  timeoutMs: 1_000,
  now: Date.parse("2026-01-01T00:00:00Z"),
};

describe("retry-after", () => {
  it("reads seconds, milliseconds and HTTP dates", () => {
    expect(retryAfterMs({ "retry-after": "7" }, ctx.now)).toBe(7_000);
    expect(retryAfterMs({ "Retry-After": "1.5" }, ctx.now)).toBe(1_500);
    expect(retryAfterMs({ "retry-after-ms": "250", "retry-after": "9" }, ctx.now)).toBe(250);
    expect(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, ctx.now)).toBe(30_000);
    expect(retryAfterMs({ "retry-after": "Wed, 31 Dec 2025 00:00:00 GMT" }, ctx.now)).toBe(0);
    expect(retryAfterMs({ "retry-after": "soon" }, ctx.now)).toBeUndefined();
    expect(retryAfterMs(undefined, ctx.now)).toBeUndefined();
  });
});

describe("nextDelay", () => {
  const half = () => 0.5;

  it("backs off exponentially with jitter, capped, and stops after max_retries", () => {
    const failure = classifyFailure(httpError(503), ctx);
    expect(failure.kind).toBe("transient");
    expect(nextDelay(failure, 0, 0, settings, () => 0)).toBe(500);
    expect(nextDelay(failure, 0, 0, settings, () => 1)).toBe(1_000);
    expect(nextDelay(failure, 1, 0, settings, () => 1)).toBe(2_000);
    expect(nextDelay(failure, 2, 0, settings, () => 1)).toBe(4_000);
    expect(nextDelay(failure, 2, 0, { ...settings, maxRetries: 9 }, () => 1)).toBe(4_000);
    expect(nextDelay(failure, 5, 0, { ...settings, maxRetries: 9 }, () => 1)).toBe(5_000);
    expect(nextDelay(failure, 3, 0, settings, half)).toBeUndefined();
  });

  it("honours Retry-After (never less), and gives up at once when it exceeds the cap", () => {
    const short = classifyFailure(httpError(429, { "retry-after": "2" }), ctx);
    expect(nextDelay(short, 0, 0, settings, () => 0)).toBe(2_000);
    expect(nextDelay(short, 0, 0, settings, () => 1)).toBe(2_200);
    const long = classifyFailure(httpError(429, { "retry-after": "31" }), ctx);
    expect(nextDelay(long, 0, 0, settings, half)).toBeUndefined();
    const unknown = classifyFailure(httpError(429), ctx);
    expect(nextDelay(unknown, 0, 0, settings, () => 1)).toBe(1_000);
  });

  it("does not retry rejections, and retries an unreachable server only once", () => {
    expect(nextDelay(classifyFailure(httpError(401), ctx), 0, 0, settings, half)).toBeUndefined();
    expect(nextDelay(classifyFailure(httpError(400), ctx), 0, 0, settings, half)).toBeUndefined();
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const down = classifyFailure(new TypeError("fetch failed", { cause: refused }), ctx);
    expect(down.kind).toBe("unreachable");
    expect(nextDelay(down, 0, 0, settings, half)).toBeDefined();
    expect(nextDelay(down, 1, 1, settings, half)).toBeUndefined();
  });
});

describe("withRetries", () => {
  const deps = (log: RetryInfo[]) => ({
    settings,
    provider: "test",
    redact: (t: string) => t.replaceAll("s3cret", "[redacted]"),
    sleep: async () => {},
    random: () => 0.5,
    onRetry: (info: RetryInfo) => log.push(info),
  });

  it("reports each retry, then the typed error with the attempt count", async () => {
    const log: RetryInfo[] = [];
    const error = await withRetries(() => Promise.reject(httpError(500)), deps(log)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as Error).message).toMatch(/after 4 attempts/);
    expect(log.map((l) => l.attempt)).toEqual([1, 2, 3]);
  });

  it("turns a rate limit that outlasts the retries into ProviderRateLimited", async () => {
    const error = await withRetries(
      () => Promise.reject(httpError(429, { "retry-after": "1" })),
      deps([]),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRateLimited);
    expect((error as ProviderRateLimited).retryAfterSeconds).toBe(1);
  });

  it("redacts secrets from messages", async () => {
    const error = await withRetries(() => Promise.reject(new Error("bad key s3cret")), deps([])).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain("[redacted]");
    expect((error as Error).message).not.toContain("s3cret");
  });

  it("stops waiting when the caller aborts during a backoff", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("stop")), 50);
    const error = await withRetries(() => Promise.reject(httpError(503)), {
      settings: { ...settings, retryBaseMs: 10_000, retryMaxMs: 10_000 },
      provider: "test",
      redact: (t) => t,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("stop");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
