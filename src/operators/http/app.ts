import { getConnInfo } from "@hono/node-server/conninfo";
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { GimoError } from "../../core/errors.ts";
import { tracer } from "../../core/tracing.ts";
import { registerMcpRoute } from "../mcp/http.ts";
import type { HttpApp, HttpDeps, HttpEnv } from "./env.ts";
import { errorHandler, renderError, validationHook } from "./errors.ts";
import { bodyGuard, correlation } from "./middleware/edge.ts";
import { rateLimit } from "./middleware/rate-limit.ts";
import { traceRequests } from "./middleware/tracing.ts";
import { actionsDocument, fullDocument, stripActionsMarks } from "./openapi.ts";
import { registerAuditRoutes } from "./routes/audit.ts";
import { registerChatRoutes } from "./routes/chats.ts";
import { registerContextRoutes } from "./routes/context.ts";
import { registerDraftRoutes } from "./routes/drafts.ts";
import { registerIntegrationRoutes } from "./routes/integrations.ts";
import { registerPlanningRoutes } from "./routes/planning.ts";
import { registerProjectRoutes } from "./routes/projects.ts";
import { registerProviderRoutes } from "./routes/providers.ts";
import { registerRunnerProtocolRoutes } from "./routes/runner-protocol.ts";
import { registerRunnerRoutes } from "./routes/runners.ts";
import { registerRunRoutes } from "./routes/runs.ts";
import { registerSystemRoutes } from "./routes/system.ts";
import { registerTaskRoutes } from "./routes/tasks.ts";
import { registerTokenRoutes } from "./routes/tokens.ts";
import { serveWebUi } from "./web-ui.ts";

/** The HTTP operator: edge guards, every route of the contract, the OpenAPI documents. */
export function createHttpApp(deps: HttpDeps): HttpApp {
  const { config } = deps.services.ctx;
  const app = new OpenAPIHono<HttpEnv>({ defaultHook: validationHook });

  app.use("*", correlation());
  if (tracer().enabled) app.use("*", traceRequests());
  if (config.corsOrigins.length > 0) {
    // Bearer tokens only, never cookies: no credentials mode. Off unless GIMO_CORS_ORIGINS is set.
    const any = config.corsOrigins.includes("*");
    app.use(
      "*",
      cors({
        origin: any ? "*" : (origin) => (config.corsOrigins.includes(origin) ? origin : null),
        allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allowHeaders: ["authorization", "content-type", "idempotency-key", "if-match", "last-event-id"],
        exposeHeaders: ["x-correlation-id", "etag", "retry-after", "link"],
        maxAge: 600,
      }),
    );
  }
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || "unmatched";
    deps.services.prometheus.httpDuration.observe(
      { method: c.req.method, route, status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });
  if (config.rateLimit.perSecond > 0) {
    app.use(
      "*",
      rateLimit(config.rateLimit, (c) => {
        try {
          return getConnInfo(c).remote.address ?? "unknown";
        } catch {
          return "unknown";
        }
      }),
    );
  }
  app.use("*", bodyGuard(config.maxBodyBytes));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  registerSystemRoutes(app, deps);
  registerProjectRoutes(app, deps);
  registerTaskRoutes(app, deps);
  registerDraftRoutes(app, deps);
  registerPlanningRoutes(app, deps);
  registerProviderRoutes(app, deps);
  registerRunnerProtocolRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerRunnerRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerContextRoutes(app, deps);
  registerMcpRoute(app, deps);
  registerChatRoutes(app, deps);
  registerIntegrationRoutes(app, deps);

  app.get("/openapi.json", (c) => c.json(stripActionsMarks(fullDocument(app, config.publicUrl))));
  app.get("/openapi.actions.json", (c) => c.json(actionsDocument(app, config.publicUrl)));

  // What no API route answers may be the web UI (its files, or its index.html for a client route).
  app.notFound(
    (c) =>
      serveWebUi(c) ?? renderError(c, new GimoError("not_found", `no route ${c.req.method} ${c.req.path}`)),
  );
  app.onError(errorHandler(deps.logger));
  return app;
}
