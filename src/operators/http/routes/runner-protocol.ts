import { z } from "@hono/zod-openapi";
import { claimWaiting } from "../../../app/queue.ts";
import { IdOf } from "../../../contract/common.ts";
import {
  CallOutcome,
  IntegrationCallBody,
  IntegrationName,
  RunIntegrationTools,
} from "../../../contract/integration.ts";
import { RunStep } from "../../../contract/run.ts";
import {
  ClaimBody,
  ClaimedRun,
  CompleteBody,
  CompleteResult,
  HeartbeatBody,
  LeaseBody,
  LeaseResult,
  LogsBody,
  RunnerRegister,
  RunnerRegistered,
  StepsBody,
} from "../../../contract/runner.ts";
import { GimoError } from "../../../core/errors.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

/** The runner protocol (SPEC §6). Every call after the claim is fenced by (run, attempt, runner). */
export function registerRunnerProtocolRoutes(app: HttpApp, deps: HttpDeps): void {
  const { runners, queue, reports, ctx, tokens, integrations, gateway } = deps.services;
  const tags = ["runner protocol"];
  const RunParams = z.object({ id: IdOf("run") });
  const fence = (runId: string, body: { runner_id: string; attempt: number }) => ({
    runId,
    attempt: body.attempt,
    runnerId: body.runner_id,
  });

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runners/register",
        access: "runner",
        operationId: "registerRunner",
        description:
          "Runner protocol: a runner process announces itself (name, labels, capacity) and gets its runner id. Runner token only.",
        summary: "Register a runner; returns its id",
        tags,
        request: jsonBody(RunnerRegister),
        responses: { 201: jsonResponse(RunnerRegistered, "registered") },
      },
      deps,
    ),
    async (c) => c.json(await runners.register(c.get("principal"), c.req.valid("json")), 201),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runners/{id}/heartbeat",
        access: "runner",
        operationId: "runnerHeartbeat",
        description:
          "Runner protocol: keeps a runner online (a runner is offline once its last heartbeat is 60 s old); stopping:true says it is shutting down.",
        summary: "Keep a runner online (offline after 60 s of silence); stopping:true says goodbye",
        tags,
        request: { params: z.object({ id: IdOf("runner") }), ...jsonBody(HeartbeatBody, false) },
        responses: { 200: jsonResponse(z.object({ ok: z.boolean() }), "ok") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json") ?? {};
      return c.json(
        await runners.heartbeat(c.get("principal"), c.req.valid("param").id, body.stopping === true),
        200,
      );
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/claim",
        access: "runner",
        operationId: "claimRun",
        description:
          "Runner protocol: atomically claim the next claimable queued run with its approved plan and project, long-polling up to wait_seconds; 204 when none. No run is ever held by two runners.",
        summary: "Claim the next claimable run (200) or nothing (204); long-polls up to wait_seconds",
        tags,
        request: jsonBody(ClaimBody),
        responses: {
          200: jsonResponse(ClaimedRun, "a run, its approved plan and project"),
          204: { description: "nothing to do" },
        },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json");
      await runners.assertKnown(body.runner_id);
      // A long poll outlives the token check: a token revoked (or expiring) meanwhile claims nothing.
      const watch = tokens.watch(c.get("principal"));
      let claimed: Awaited<ReturnType<typeof claimWaiting>>;
      try {
        claimed = await claimWaiting(
          ctx,
          queue,
          c.get("principal"),
          body.runner_id,
          body.wait_seconds ?? 0,
          AbortSignal.any([c.req.raw.signal, watch.signal]),
        );
      } finally {
        watch.stop();
      }
      if (watch.signal.aborted && !claimed)
        throw new GimoError("unauthorized", `the runner's ${String(watch.signal.reason)} during the wait`);
      if (!claimed) return c.body(null, 204);
      return c.json(claimed, 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/lease",
        access: "runner",
        operationId: "extendLease",
        description:
          "Runner protocol: extend the lease of a claimed run and learn whether its cancellation was requested; 409 when this attempt's lease was lost.",
        summary: "Extend the lease on a claimed run; answers cancel_requested; 409 when the lease was lost",
        tags,
        request: { params: RunParams, ...jsonBody(LeaseBody) },
        responses: { 200: jsonResponse(LeaseResult, "extended") },
      },
      deps,
    ),
    async (c) => {
      const f = fence(c.req.valid("param").id, c.req.valid("json"));
      return c.json(await reports.extendLease(c.get("principal"), f), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/logs",
        access: "runner",
        operationId: "appendRunLogs",
        description:
          "Runner protocol: append a batch of log lines to a run, fenced by runner id and attempt; 409 when the lease was lost.",
        summary: "Append a batch of log lines (secrets are redacted before storage)",
        tags,
        request: { params: RunParams, ...jsonBody(LogsBody) },
        responses: { 200: jsonResponse(z.object({ last_seq: z.number().int() }), "stored") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json");
      const f = fence(c.req.valid("param").id, body);
      return c.json(await reports.appendLogs(c.get("principal"), f, body.lines, c.get("correlationId")), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/steps",
        access: "runner",
        operationId: "updateRunSteps",
        description:
          "Runner protocol: report step states of a run (running, succeeded, failed, skipped), fenced by runner id and attempt.",
        summary: "Update the status of plan steps",
        tags,
        request: { params: RunParams, ...jsonBody(StepsBody) },
        responses: { 200: jsonResponse(z.object({ steps: z.array(RunStep) }), "the run's steps") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json");
      const steps = await reports.updateSteps(
        c.get("principal"),
        fence(c.req.valid("param").id, body),
        body.steps,
      );
      return c.json({ steps: steps as z.infer<typeof RunStep>[] }, 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/complete",
        access: "runner",
        operationId: "completeRun",
        description:
          "Runner protocol: end a run attempt with its result or error; an infrastructure failure goes back to the queue with backoff. Can claim the next run in the same call. 409 when the lease was lost.",
        summary:
          "End the attempt: succeeded, failed (retryable failures are requeued) or cancelled; with claim_next, also claim the next run; 409 when the lease was lost",
        tags,
        request: { params: RunParams, ...jsonBody(CompleteBody) },
        responses: { 200: jsonResponse(CompleteResult, "the run's new status") },
      },
      deps,
    ),
    async (c) => {
      const { runner_id, attempt, claim_next, ...completion } = c.req.valid("json");
      const f = fence(c.req.valid("param").id, { runner_id, attempt });
      const options = { claimNext: claim_next === true };
      return c.json(await reports.complete(c.get("principal"), f, completion, options), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/integrations",
        access: "runner",
        operationId: "listRunIntegrationTools",
        description:
          "Runner protocol: the integration operations allow-listed for the run's project, as tools for the executor agent (name, description, JSON Schema parameters). Fenced; 409 when the lease was lost.",
        summary: "The allow-listed integration operations for a run, as tools",
        tags,
        request: { params: RunParams, ...jsonBody(LeaseBody) },
        responses: { 200: jsonResponse(RunIntegrationTools, "the tools") },
      },
      deps,
    ),
    async (c) => {
      const run = await reports.held(fence(c.req.valid("param").id, c.req.valid("json")));
      return c.json({ tools: await integrations.toolsFor(run.project_id) }, 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/runs/{id}/integrations/{name}/{operation}",
        access: "runner",
        operationId: "callRunIntegration",
        description:
          "Runner protocol: the executor agent calls an integration operation through GIMO's gateway (allow-list for the run's project, argument validation, timeout, address guard, size cap, audit). The outcome says ok or why not. Fenced; 409 when the lease was lost.",
        summary: "Call an allow-listed integration operation for a run",
        tags,
        request: {
          params: RunParams.extend({
            name: IntegrationName,
            operation: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, "must be an operation name"),
          }),
          ...jsonBody(IntegrationCallBody),
        },
        responses: { 200: jsonResponse(CallOutcome, "the call's outcome") },
      },
      deps,
    ),
    async (c) => {
      const params = c.req.valid("param");
      const body = c.req.valid("json");
      const run = await reports.held(fence(params.id, body));
      const outcome = await gateway.call({
        integration: params.name,
        operation: params.operation,
        args: body.arguments,
        caller: "run",
        projectId: run.project_id,
        runId: params.id,
        principal: c.get("principal"),
        signal: c.req.raw.signal,
      });
      return c.json(outcome, 200);
    },
  );
}
