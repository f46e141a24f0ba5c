import { hash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { GimoError } from "../../../core/errors.ts";
import type { HttpEnv } from "../env.ts";

/**
 * A token bucket per client: keyed by the bearer token when there is one, else by address.
 * `perSecond = 0` turns it off. Buckets live in this process (one replica's view is enough to
 * stop a runaway client); idle ones are forgotten.
 */
export function rateLimit(
  opts: { perSecond: number; burst: number },
  addressOf: (c: Parameters<MiddlewareHandler<HttpEnv>>[0]) => string,
): MiddlewareHandler<HttpEnv> {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = Date.now();
  return async (c, next) => {
    if (opts.perSecond <= 0) return next();
    const auth = c.req.header("authorization");
    const key = auth ? hash("sha256", auth, "base64url") : `ip:${addressOf(c)}`;
    const now = Date.now();
    if (now - lastSweep > 60_000) {
      for (const [k, b] of buckets) if (now - b.at > 60_000) buckets.delete(k);
      lastSweep = now;
    }
    const bucket = buckets.get(key) ?? { tokens: opts.burst, at: now };
    bucket.tokens = Math.min(opts.burst, bucket.tokens + ((now - bucket.at) / 1000) * opts.perSecond);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.ceil((1 - bucket.tokens) / opts.perSecond);
      c.header("retry-after", String(retryAfter));
      throw new GimoError("rate_limited", `too many requests; retry in ${retryAfter}s`, {
        retry_after_seconds: retryAfter,
      });
    }
    bucket.tokens -= 1;
    return next();
  };
}
