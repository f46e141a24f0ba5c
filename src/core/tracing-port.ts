/**
 * The tracing port's types and its no-op tracer (core/tracing.ts says how tracing works); apart
 * from tracing.ts so the OpenTelemetry adapter (tracing-otel.ts) can implement them without an
 * import cycle.
 */
export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanOptions {
  attributes?: SpanAttributes;
  /** A W3C `traceparent` to continue; without it the active span (if any) is the parent. */
  parent?: string | null;
  kind?: "server" | "internal";
  /** When the span began (ms since the epoch), for a span recorded after the fact. */
  startTime?: number;
}

export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  updateName(name: string): void;
  /** This span's W3C `traceparent`, or undefined when not tracing. */
  traceparent(): string | undefined;
  /** Ends the span; an error marks it failed. */
  end(error?: unknown): void;
}

export interface Tracer {
  readonly enabled: boolean;
  /** Runs `fn` inside a new active span, ended (and marked failed on a throw) when `fn` settles. */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** Starts a span that is not made active (ended by the caller). */
  startSpan(name: string, options: SpanOptions): TraceSpan;
  /** The active span's W3C `traceparent`, or undefined. */
  traceparent(): string | undefined;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

const noopSpan: TraceSpan = {
  setAttributes: () => {},
  updateName: () => {},
  traceparent: () => undefined,
  end: () => {},
};

export const noopTracer: Tracer = {
  enabled: false,
  inSpan: (_name, _options, fn) => fn(noopSpan),
  startSpan: () => noopSpan,
  traceparent: () => undefined,
  shutdown: async () => {},
};
