import { z } from "@hono/zod-openapi";
import { IdOf } from "../../../contract/common.ts";
import {
  CancelBody,
  RequeueBody,
  Run,
  RunCreate,
  RunDiff,
  RunPage,
  RunQuery,
} from "../../../contract/run.ts";
import { readRunDiff } from "../../../git/run-diff.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { pageFor } from "../page.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

const RunParams = z.object({ id: IdOf("run") });

/** The most a run's diff answer carries; beyond it the diff is cut and says `truncated`. */
export const RUN_DIFF_MAX_BYTES = 2 * 1024 * 1024;

export function registerRunRoutes(app: HttpApp, deps: HttpDeps): void {
  const { runs } = deps.services;
  const tags = ["runs"];

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs",
        access: "operator",
        operationId: "createRun",
        description:
          "Queue a run of an approved plan by its a_ id; runners execute it on a task branch and push it. A draft id (d_) answers 403: approve the draft first. 409 while the same plan already has a queued or running run.",
        summary: "Queue a run of an approved plan (a_…). A draft id is refused: only approved plans can run",
        tags,
        actions: true,
        request: jsonBody(RunCreate),
        responses: { 201: jsonResponse(Run, "the queued run; poll getRun for progress") },
      },
      deps,
    ),
    async (c) => c.json(await runs.create(c.get("principal"), c.req.valid("json")), 201),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/runs",
        access: "read",
        operationId: "listRuns",
        description:
          "List runs, newest first, with their status (queued, running, succeeded, failed, cancelled); filter by status, task or project.",
        summary: "List runs, newest first; filter by status, task or project",
        tags,
        actions: true,
        request: { query: RunQuery },
        responses: { 200: jsonResponse(RunPage, "a page of runs") },
      },
      deps,
    ),
    async (c) => c.json(pageFor(c, await runs.list(c.req.valid("query"))), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/runs/{id}",
        access: "read",
        operationId: "getRun",
        description:
          "One run: status, attempt, steps, file changes, test results, branch, link and, when it failed, the error code and message. Poll it to follow a run.",
        summary: "A run with its steps, file changes, tests and result",
        tags,
        actions: true,
        request: { params: RunParams },
        responses: { 200: jsonResponse(Run, "the run") },
      },
      deps,
    ),
    async (c) => c.json(await runs.get(c.req.valid("param").id), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/runs/{id}/diff",
        access: "read",
        operationId: "getRunDiff",
        description:
          "The change a run pushed, as a unified diff of its commit against its start (cut at 2 MiB, with a flag saying so). Read from the project's own repository; a project known only by URL answers 409.",
        summary: "The run's change as a unified diff, from its pushed commit (size-capped)",
        tags,
        request: { params: RunParams },
        responses: { 200: jsonResponse(RunDiff, "the diff") },
      },
      deps,
    ),
    async (c) => {
      const run = await runs.get(c.req.valid("param").id);
      const project = await deps.services.projects.get(run.project_id);
      const found = await readRunDiff(
        { repoPath: project.repo_path, baseSha: run.result?.base_sha, headSha: run.result?.head_sha },
        RUN_DIFF_MAX_BYTES,
      );
      const diff = deps.services.ctx.redactor.redact(found.diff);
      return c.json({ run_id: run.id, ...found, diff, max_bytes: RUN_DIFF_MAX_BYTES }, 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/cancel",
        access: "operator",
        operationId: "cancelRun",
        description:
          "Cancel a run: a queued run ends cancelled at once; a running one stops within one lease heartbeat. 409 when it has already ended.",
        summary: "Cancel a run: a queued one ends at once; a running one stops within one lease heartbeat",
        tags,
        actions: true,
        request: { params: RunParams, ...jsonBody(CancelBody, false) },
        responses: { 200: jsonResponse(Run, "the run") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json") ?? {};
      return c.json(await runs.cancel(c.get("principal"), c.req.valid("param").id, body.reason), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/requeue",
        access: "operator",
        operationId: "requeueRun",
        description:
          "Put a failed or cancelled run back in the queue, optionally after backoff_seconds. 409 for a run that has not ended.",
        summary: "Put a failed or cancelled run back in the queue, optionally after backoff_seconds",
        tags,
        actions: true,
        request: { params: RunParams, ...jsonBody(RequeueBody, false) },
        responses: { 200: jsonResponse(Run, "the queued run") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json") ?? {};
      return c.json(
        await runs.requeue(c.get("principal"), c.req.valid("param").id, body.backoff_seconds ?? 0),
        200,
      );
    },
  );
}
