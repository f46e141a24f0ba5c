import type { Context, TypedResponse } from "hono";
import {
  Health,
  Panic,
  PanicBody,
  PurgeBody,
  PurgeResult,
  Ready,
  Status,
  Whoami,
} from "../../../contract/system.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

export function registerSystemRoutes(app: HttpApp, deps: HttpDeps): void {
  const { status, panic, retention } = deps.services;

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/health",
        access: "public",
        operationId: "getHealth",
        description:
          "Liveness probe: answers {ok:true} while the process serves HTTP. No token needed; it does not check the database (use getReady for that).",
        summary: "Liveness: answers while the process is up",
        tags: ["system"],
        responses: { 200: jsonResponse(Health, "alive") },
      },
      deps,
    ),
    (c) => jsonLine(c, { ok: true }),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ready",
        access: "public",
        operationId: "getReady",
        description:
          "Readiness probe: the database answers and has every migration this version knows (503 otherwise); also says which model roles are configured (not probed: see getProviderHealth). No token needed.",
        summary: "Readiness: database, migrations and configured models",
        tags: ["system"],
        responses: { 200: jsonResponse(Ready, "ready"), 503: jsonResponse(Ready, "not ready") },
      },
      deps,
    ),
    async (c) => {
      const ready = await status.ready(() => deps.services.providers.stored());
      return ready.ok ? c.json(ready, 200) : c.json(ready, 503);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/status",
        access: "any",
        operationId: "getStatus",
        description:
          "A one-call overview of the server: version, uptime, storage kind, panic mode, runners online and the queue's counts per run state. Use it first to see whether GIMO is healthy and busy.",
        summary: "Version, uptime, storage, panic mode, runners online and queue counts",
        tags: ["system"],
        actions: true,
        responses: { 200: jsonResponse(Status, "status") },
      },
      deps,
    ),
    async (c) => jsonLine(c, await status.status()),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/whoami",
        access: "any",
        operationId: "whoami",
        summary: "Who the bearer token is: its identity in the audit log and its role",
        description: "Answers for any valid token; `gimo login` checks a token with it before storing it.",
        tags: ["system"],
        responses: { 200: jsonResponse(Whoami, "the token's identity and role") },
      },
      deps,
    ),
    (c) => {
      const p = c.get("principal");
      return c.json({ actor: p.actor, role: p.role, token_id: p.tokenId }, 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/panic",
        access: "read",
        operationId: "getPanic",
        description:
          "Whether panic mode is on, since when, by whom and why. While it is on, every mutation but turning it off answers 423 and runners claim nothing.",
        summary: "Whether panic mode is on",
        tags: ["system"],
        responses: { 200: jsonResponse(Panic, "panic state") },
      },
      deps,
    ),
    async (c) => c.json(await panic.get(), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/panic",
        access: "admin",
        operationId: "setPanic",
        description:
          "Turn panic mode on or off ({on, reason}). On: every mutation but this one answers 423 and runners claim no new run. Admin only; recorded in the audit log.",
        summary: "Turn panic mode on (every mutation answers 423, runners claim nothing) or off",
        tags: ["system"],
        request: jsonBody(PanicBody),
        responses: { 200: jsonResponse(Panic, "the new panic state") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await panic.set(c.get("principal"), body.on, body.reason), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/purge",
        access: "admin",
        operationId: "purgeRuns",
        description:
          "Retention: delete finished runs (with their log lines) that ended more than older_than_days ago (default OPS_RUN_TTL). Their audit events stay, and a run an active run depends on is kept. dry_run counts without deleting. Admin only; recorded in the audit log.",
        summary: "Purge old finished runs (dry_run to count)",
        tags: ["system"],
        request: jsonBody(PurgeBody),
        responses: { 200: jsonResponse(PurgeResult, "what was (or would be) purged") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json");
      const olderThanDays = body.older_than_days ?? deps.services.ctx.config.runTtlDays;
      return c.json(await retention.purge(c.get("principal"), { olderThanDays, dryRun: body.dry_run }), 200);
    },
  );
}

/**
 * The JSON body with a final newline: `/health` and `/status` are what people `curl` by hand, and a
 * body without one leaves the shell prompt glued to it.
 */
function jsonLine<T>(c: Context, body: T) {
  return c.body(`${JSON.stringify(body)}\n`, 200, {
    "content-type": "application/json",
  }) as unknown as TypedResponse<T, 200, "json">;
}
