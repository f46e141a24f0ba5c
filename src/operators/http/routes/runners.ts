import { z } from "@hono/zod-openapi";
import { IdOf } from "../../../contract/common.ts";
import { runTerminalEvents } from "../../../contract/events.ts";
import { Metrics, RunLogPage, RunnerList, RunnerStatus } from "../../../contract/runner.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonResponse } from "../route.ts";
import { eventStreamResponse, streamEvents } from "../sse.ts";

/** Reading the fleet and the runs' live output: runners, run logs, run event streams, metrics. */
export function registerRunnerRoutes(app: HttpApp, deps: HttpDeps): void {
  const { runners, reports, metrics, audit } = deps.services;
  const RunParams = z.object({ id: IdOf("run") });

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/runners",
        access: "read",
        operationId: "listRunners",
        description:
          "Runners with their state (online while their heartbeat is under 60 s old), labels, capacity and current runs.",
        summary: "Runners, online while their heartbeat is under 60 s old, with their current runs",
        tags: ["runners"],
        actions: true,
        responses: { 200: jsonResponse(RunnerList, "runners") },
      },
      deps,
    ),
    async (c) => c.json({ items: await runners.list() }, 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/runner/status",
        access: "read",
        operationId: "getRunnerStatus",
        description: "How many runners are online and how many offline.",
        summary: "How many runners are online and offline",
        tags: ["runners"],
        responses: { 200: jsonResponse(RunnerStatus, "fleet status") },
      },
      deps,
    ),
    async (c) => c.json(await runners.status(), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/runs/{id}/logs",
        access: "read",
        operationId: "getRunLogs",
        description:
          "A run's log lines, oldest first. Pass after (the last seq you saw) to read only new lines.",
        summary: "A run's log lines after a seq, oldest first",
        tags: ["runs"],
        actions: true,
        request: {
          params: RunParams,
          query: z.object({
            after: z.coerce.number().int().min(0).optional(),
            limit: z.coerce.number().int().min(1).max(1_000).default(200),
            cursor: z.string().max(200).optional(),
          }),
        },
        responses: { 200: jsonResponse(RunLogPage, "log lines") },
      },
      deps,
    ),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await reports.logs(c.req.valid("param").id, q.after, q.limit, q.cursor), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/runs/{id}/events",
        access: "read",
        operationId: "streamRunEvents",
        description:
          "Server-Sent Events of one run: its history first, then live state changes and log lines, ending after its terminal event. Each event id is its seq; send Last-Event-ID to resume without loss.",
        summary: "Server-Sent Events of one run: state changes, steps and log batches; Last-Event-ID resumes",
        tags: ["runs"],
        request: {
          params: RunParams,
          query: z.object({ after: z.coerce.number().int().min(0).optional() }),
          headers: z.object({ "last-event-id": z.string().max(20).optional() }),
        },
        responses: {
          200: eventStreamResponse(
            "the run's events, from its history (or Last-Event-ID) to its terminal event",
          ),
        },
      },
      deps,
    ),
    async (c) => {
      const id = c.req.valid("param").id;
      await deps.services.runs.get(id);
      return streamEvents(c, deps, {
        subjects: [id],
        fromStart: true,
        expandLogs: (from, to) => reports.lines(id, from, to),
        endedAt: (seq) => audit.subjectEndedAt(id, runTerminalEvents, seq),
      });
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/metrics",
        access: "read",
        operationId: "getMetrics",
        description:
          "Queue and fleet numbers in JSON: runs per state, runners online and offline, failure rate of the last 20 runs, age of the oldest queued run, drafts awaiting approval.",
        summary:
          "Runs by status, runners online/offline, failure rate of the last 20, oldest queued age, drafts awaiting approval",
        tags: ["runners"],
        actions: true,
        responses: { 200: jsonResponse(Metrics, "metrics") },
      },
      deps,
    ),
    async (c) => c.json(await metrics.snapshot(), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/metrics",
        access: "read",
        operationId: "getPrometheusMetrics",
        description:
          "The same metrics and HTTP latencies in Prometheus text format, names prefixed gimo_, for a Prometheus scraper.",
        summary:
          "Prometheus text format, prefix gimo_: queue depth by status, claims, run durations, HTTP latencies",
        tags: ["runners"],
        responses: {
          200: { description: "Prometheus exposition", content: { "text/plain": { schema: z.string() } } },
        },
      },
      deps,
    ),
    async (c) => {
      const { prometheus } = deps.services;
      return c.text(await prometheus.text(), 200, { "content-type": prometheus.registry.contentType });
    },
  );
}
