import type { Kysely } from "kysely";

/**
 * Traces (OpenTelemetry, optional). `runs.trace_context`: the W3C traceparent of the span that
 * queued the run, written only while tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT set). The claim
 * continues that trace and hands its context to the runner, so the request that approved a plan,
 * the claim and the runner's steps are one trace. Null otherwise; nothing reads it then.
 *
 * Both databases: a nullable text column. Both claims return the whole run row (SQLite's
 * `returning *`, PostgreSQL's `row_to_json`), so the queue functions need no change.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("runs").addColumn("trace_context", "text").execute();
}
