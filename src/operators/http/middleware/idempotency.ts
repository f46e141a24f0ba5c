import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { GimoError } from "../../../core/errors.ts";
import type { HttpDeps, HttpEnv } from "../env.ts";

/**
 * `Idempotency-Key` for mutating POSTs (the rules live in app/idempotency). Runs after auth, so
 * keys are per actor. A 2xx response is stored and replayed; anything else releases the key.
 *
 * Secrets never go into the store: the route's `secretFields` (a minted token's value, shown once)
 * are removed from the stored answer, so a replay answers the same status and metadata without
 * them; and every secret the server knows (the redactor's) is masked in what is stored.
 */
export function idempotency(deps: HttpDeps, secretFields: readonly string[]): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key === undefined) return next();
    if (key.length === 0 || key.length > 200 || /[^\x21-\x7e]/.test(key)) {
      throw new GimoError("validation_failed", "Idempotency-Key must be 1-200 visible ASCII characters");
    }
    const actor = c.get("principal").actor;
    const body = await c.req.text();
    const fingerprint = createHash("sha256").update(`${c.req.method} ${c.req.path}\n${body}`).digest("hex");
    const idem = deps.services.idempotency;
    const reservation = await idem.reserve(actor, key, fingerprint);
    if (reservation.kind === "replay") {
      // Through the context, so the headers set before the route (x-correlation-id) are kept.
      return c.body(reservation.body, reservation.status as ContentfulStatusCode, {
        "content-type": "application/json",
        "idempotent-replayed": "true",
      });
    }
    try {
      await next();
    } catch (error) {
      await idem.release(actor, key);
      throw error;
    }
    if (c.res.status >= 200 && c.res.status < 300) {
      const answer = withoutFields(await c.res.clone().text(), secretFields);
      await idem.complete(actor, key, c.res.status, deps.services.ctx.redactor.redact(answer));
    } else {
      await idem.release(actor, key);
    }
  };
}

/** The JSON answer without the named top-level fields. */
function withoutFields(text: string, fields: readonly string[]): string {
  if (fields.length === 0) return text;
  const value = JSON.parse(text) as Record<string, unknown>;
  for (const field of fields) delete value[field];
  return JSON.stringify(value);
}
