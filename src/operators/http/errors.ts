import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { GimoError, isGimoError } from "../../core/errors.ts";
import { retryableKind } from "../../core/retryable-errors.ts";
import type { Logger } from "../../log.ts";
import type { HttpEnv } from "./env.ts";

/**
 * The one place errors become HTTP. Every error answer has the shape
 * `{"error":{"code","message","details?"}}` and carries the correlation id. Anything that is not a
 * known error is logged with that id and answered 500 without internals; a database that cannot be
 * reached is 503.
 */
export function renderError(c: Context<HttpEnv>, error: GimoError): Response {
  const body: { code: string; message: string; details?: unknown } = {
    code: error.code,
    message: error.message,
  };
  if (error.details !== undefined) body.details = error.details;
  const res = c.json({ error: body }, error.status as 400);
  const retry = (error.details as { retry_after_seconds?: number } | undefined)?.retry_after_seconds;
  if (retry !== undefined) res.headers.set("retry-after", String(retry));
  const id = c.get("correlationId");
  if (id) res.headers.set("x-correlation-id", id);
  return res;
}

export function toGimoError(error: unknown): GimoError | undefined {
  if (isGimoError(error)) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413) return new GimoError("payload_too_large", "request body is too large");
    if (error.status === 400) return new GimoError("bad_request", error.message || "bad request");
    if (error.status === 415) return new GimoError("unsupported_media_type", error.message);
    return undefined;
  }
  if (isDatabaseUnavailable(error))
    return new GimoError("unavailable", "the database is not reachable; retry shortly");
  if (error instanceof URIError)
    return new GimoError("bad_request", "the request URL is not valid percent-encoding");
  return undefined;
}

function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const kind = retryableKind(e);
  if (kind === "connection" || kind === "unreachable") return true;
  return (
    typeof e?.message === "string" &&
    /Connection terminated|timeout exceeded when trying to connect|database is locked/i.test(e.message)
  );
}

export function errorHandler(logger: Logger) {
  return (error: Error, c: Context<HttpEnv>): Response => {
    const known = toGimoError(error);
    if (known) return renderError(c, known);
    logger.error("unhandled error", {
      correlation_id: c.get("correlationId"),
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    return renderError(
      c,
      new GimoError("internal", "internal error; quote the x-correlation-id when reporting it"),
    );
  };
}

/** zod-openapi's hook: a request that fails its schema gets 400 with every issue listed. */
export function validationHook(
  result: { success: boolean; error?: ZodError; target?: string },
  c: Context<HttpEnv>,
) {
  if (result.success || !result.error) return;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const where = result.target === "json" ? "body" : result.target;
  const first = issues[0];
  const message = first
    ? `invalid ${where}: ${first.path ? `${first.path}: ` : ""}${first.message}`
    : `invalid ${where}`;
  return renderError(c, new GimoError("validation_failed", message, { issues }));
}
