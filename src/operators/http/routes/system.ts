import { Health, Panic, PanicBody, Ready, Status } from "../../../contract/system.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

export function registerSystemRoutes(app: HttpApp, deps: HttpDeps): void {
  const { status, panic } = deps.services;

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/health",
        access: "public",
        operationId: "getHealth",
        summary: "Liveness: answers while the process is up",
        tags: ["system"],
        responses: { 200: jsonResponse(Health, "alive") },
      },
      deps,
    ),
    (c) => c.json({ ok: true }, 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ready",
        access: "public",
        operationId: "getReady",
        summary: "Readiness: the database answers",
        tags: ["system"],
        responses: { 200: jsonResponse(Ready, "ready"), 503: jsonResponse(Ready, "not ready") },
      },
      deps,
    ),
    async (c) => {
      const ok = await status.ready();
      return ok
        ? c.json({ ok, database: deps.services.ctx.store.kind }, 200)
        : c.json({ ok, database: deps.services.ctx.store.kind }, 503);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/status",
        access: "any",
        operationId: "getStatus",
        summary: "Version, uptime, storage, panic mode, runners online and queue counts",
        tags: ["system"],
        actions: true,
        responses: { 200: jsonResponse(Status, "status") },
      },
      deps,
    ),
    async (c) => c.json(await status.status(), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/panic",
        access: "read",
        operationId: "getPanic",
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
}
