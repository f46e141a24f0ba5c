import {
  type Context,
  context,
  type Tracer as OtelTracer,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { parseTraceParent } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { SpanOptions, Tracer, TraceSpan } from "./tracing-port.ts";

/**
 * The tracing port (core/tracing.ts) on the OpenTelemetry SDK: spans batched and exported as
 * OTLP/HTTP JSON to `<endpoint>/v1/traces`, the active span carried by AsyncLocalStorage. Loaded
 * only by `startTracing`, and only when OTEL_EXPORTER_OTLP_ENDPOINT is set — the one file that
 * imports an @opentelemetry package. The exporter itself also honours the standard
 * OTEL_EXPORTER_OTLP_HEADERS / _TIMEOUT variables.
 */
export function createOtelTracer(config: { endpoint: URL; serviceName: string }): Tracer {
  const base = config.endpoint.href.endsWith("/") ? config.endpoint.href : `${config.endpoint.href}/`;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": config.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: new URL("v1/traces", base).href }),
        scheduledDelayMillis: 1_000,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const otel = provider.getTracer("gimo");

  return {
    enabled: true,
    async inSpan(name, options, fn) {
      const span = start(otel, name, options);
      const wrapped = wrap(span);
      try {
        const value = await context.with(trace.setSpan(parentOf(options), span), () => fn(wrapped));
        wrapped.end();
        return value;
      } catch (error) {
        wrapped.end(error);
        throw error;
      }
    },
    startSpan: (name, options) => wrap(start(otel, name, options)),
    traceparent() {
      const span = trace.getActiveSpan();
      return span ? traceparentOf(span) : undefined;
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}

/** The context a new span's parent comes from: the given `traceparent`, else the active one. */
function parentOf(options: SpanOptions): Context {
  const active = context.active();
  if (!options.parent) return active;
  const remote = parseTraceParent(options.parent);
  return remote ? trace.setSpanContext(active, { ...remote, isRemote: true }) : active;
}

function start(otel: OtelTracer, name: string, options: SpanOptions): Span {
  return otel.startSpan(
    name,
    {
      kind: options.kind === "server" ? SpanKind.SERVER : SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    },
    parentOf(options),
  );
}

function wrap(span: Span): TraceSpan {
  return {
    setAttributes: (attributes) => void span.setAttributes(attributes),
    updateName: (name) => void span.updateName(name),
    traceparent: () => traceparentOf(span),
    end(error?: unknown) {
      if (error !== undefined) {
        // The error's class only: a message may quote a command's output or a URL with a token.
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorName(error) });
      }
      span.end();
    },
  };
}

function errorName(error: unknown): string {
  if (error instanceof Error) return (error as { code?: unknown }).code?.toString() ?? error.name;
  return typeof error;
}

function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}
