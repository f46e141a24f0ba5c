import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { ErrorBody } from "../../contract/common.ts";
import type { Access } from "../../core/roles.ts";
import type { HttpDeps } from "./env.ts";
import { requireAccess } from "./middleware/auth.ts";
import { idempotency } from "./middleware/idempotency.ts";

/**
 * Declares a route from the contract. Each route names its access level (core/roles) — enforced
 * by its own middleware and published in the OpenAPI document as `x-gimo-access` — and whether it
 * belongs to the ChatGPT Actions subset. Mutating POSTs honour `Idempotency-Key` (never storing the
 * secrets an answer shows once).
 */
export interface RouteSpec extends Omit<RouteConfig, "middleware" | "security"> {
  access: Access;
  operationId: string;
  summary: string;
  /**
   * What the operation does and when to use it, in a few sentences (at most 300 characters: the
   * ChatGPT Actions limit). A custom GPT or an MCP client chooses operations by it.
   */
  description: string;
  /** Included in /openapi.actions.json. */
  actions?: boolean;
  /**
   * Top-level fields of the success answer that hold a secret shown once (a minted token's value):
   * never stored for an `Idempotency-Key` replay, which answers without them.
   */
  secretFields?: readonly string[];
}

const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "Same key and body within 24 h → same response, no second effect" }),
});

export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { body: { content: { "application/json": { schema } }, required } };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

/**
 * The 4xx answers every route of this kind can give, from what it declares (the edge and the
 * middleware are the same for all): 400 when it takes input, 401/403 unless public, 404 with a
 * path parameter, 423 for a mutation (panic mode), 429 always (the rate limit).
 */
function errorResponses(spec: RouteSpec): Record<number, ReturnType<typeof jsonResponse>> {
  const out: Record<number, ReturnType<typeof jsonResponse>> = {};
  const request = spec.request ?? {};
  const error = (text: string) => jsonResponse(ErrorBody, text);
  if (request.body || request.query || request.params || request.headers || spec.method === "post")
    out[400] = error("invalid input: validation_failed or bad_request, with the offending field in details");
  if (spec.access !== "public") {
    out[401] = error("missing, unknown, revoked or expired bearer token");
    out[403] = error("the token's role may not do this");
  }
  if (request.params) out[404] = error("no such resource");
  if (spec.method !== "get" && spec.access !== "public")
    out[423] = error("panic mode is on: mutations are refused");
  out[429] = error("rate limited: retry after the retry-after header's seconds");
  return out;
}

export function defineRoute<const S extends RouteSpec>(spec: S, deps: HttpDeps) {
  const { access, actions, secretFields, ...rest } = spec;
  const mutating = spec.method !== "get";
  const middleware = [requireAccess(access, deps)];
  if (spec.method === "post") middleware.push(idempotency(deps, secretFields ?? []));
  const request = spec.method === "post" ? { ...spec.request, headers: IdempotencyHeader } : spec.request;
  const config = {
    ...rest,
    request,
    middleware,
    security: access === "public" ? [] : [{ bearer: [] }],
    responses: {
      ...errorResponses(spec),
      ...spec.responses,
      default: jsonResponse(ErrorBody, "An error: {error:{code,message,details?}}"),
    },
    "x-gimo-access": access,
    "x-gimo-actions": actions === true,
    "x-openai-isConsequential": mutating,
  };
  // Typed as the spec itself so handlers see its request and response schemas.
  return createRoute(config as unknown as Omit<S, "access" | "actions" | "secretFields">);
}
