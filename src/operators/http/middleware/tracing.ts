import type { MiddlewareHandler } from "hono";
import { tracer } from "../../../core/tracing.ts";
import type { HttpEnv } from "../env.ts";

/**
 * One server span per request, when tracing is on (core/tracing.ts; app.ts installs this only
 * then, so a GIMO without OTEL_EXPORTER_OTLP_ENDPOINT pays nothing). A caller's W3C `traceparent`
 * header is honoured: the request joins the caller's trace. The span names the method and the
 * route pattern (`/ops/runs/:id`, never the path with its ids or a query string) and the status —
 * no header, so no token, reaches a span.
 */
export function traceRequests(): MiddlewareHandler<HttpEnv> {
  return (c, next) =>
    tracer().inSpan(
      `HTTP ${c.req.method}`,
      {
        kind: "server",
        parent: c.req.header("traceparent") ?? null,
        attributes: { "http.request.method": c.req.method },
      },
      async (span) => {
        await next();
        const route = c.req.routePath || "unmatched";
        span.updateName(`${c.req.method} ${route}`);
        span.setAttributes({
          "http.route": route,
          "http.response.status_code": c.res.status,
          "gimo.correlation_id": c.get("correlationId") ?? "",
        });
      },
    );
}
