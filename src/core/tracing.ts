/**
 * Tracing, as the rest of GIMO sees it: a small port with a no-op default.
 *
 * With `OTEL_EXPORTER_OTLP_ENDPOINT` unset (the default) the tracer is the no-op below and no
 * OpenTelemetry module is ever loaded: `startTracing` imports the adapter (core/tracing-otel.ts,
 * the only file that names an @opentelemetry package) dynamically, and only when the endpoint is
 * set. Callers that would pay for tracing even as a no-op (the HTTP middleware) check `enabled`
 * once, when they are built.
 *
 * One trace follows a run: the HTTP request (its `traceparent` honoured) ─▶ the approval or run
 * creation that queues it, whose context is stored with the run (`runs.trace_context`) ─▶ the
 * claim, a span whose context the claim hands to the runner (`ClaimedRun.trace_context`, also over
 * HTTP to a remote `gimo runner`) ─▶ the runner's run and its steps (workspace, plan steps, agent
 * turns, commit, push).
 *
 * Span attributes are ids, names, kinds and statuses only — never a header, a token, a command's
 * output or a model's text — so no secret can reach the collector through a span.
 */
import { noopTracer, type Tracer } from "./tracing-port.ts";

export type { SpanAttributes, SpanOptions, Tracer, TraceSpan } from "./tracing-port.ts";

let current: Tracer = noopTracer;

/** The process's tracer: the no-op one unless `startTracing` found an endpoint. */
export function tracer(): Tracer {
  return current;
}

export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL (traces go to `<endpoint>/v1/traces`). */
  endpoint?: string;
  /** OTEL_SERVICE_NAME; `gimo` (server) or `gimo-runner` by default. */
  serviceName: string;
}

/** Reads the two variables this port honours. */
export function tracingConfig(env: NodeJS.ProcessEnv, defaultService: string): TracingConfig {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return {
    ...(endpoint ? { endpoint } : {}),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultService,
  };
}

/**
 * Starts exporting spans when an endpoint is configured (once per process; later calls keep the
 * first tracer). With no endpoint it does nothing and loads nothing.
 */
export async function startTracing(config: TracingConfig): Promise<Tracer> {
  if (!config.endpoint || current.enabled) return current;
  let url: URL;
  try {
    url = new URL(config.endpoint);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT is not a URL: ${config.endpoint}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (got ${url.protocol})`);
  const { createOtelTracer } = await import("./tracing-otel.ts");
  current = createOtelTracer({ endpoint: url, serviceName: config.serviceName });
  return current;
}
