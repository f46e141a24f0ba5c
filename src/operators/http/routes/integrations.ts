import { z } from "@hono/zod-openapi";
import { loadRow } from "../../../app/integration-records.ts";
import { IdOf, PageQuery } from "../../../contract/common.ts";
import {
  AllowList,
  CallOutcome,
  Integration,
  IntegrationInput,
  IntegrationList,
  IntegrationPatch,
  IntegrationTestCall,
} from "../../../contract/integration.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

/** The integrations registry (SPEC §7.6): read for readers, everything else admin. */
export function registerIntegrationRoutes(app: HttpApp, deps: HttpDeps): void {
  const { integrations, gateway } = deps.services;
  const tags = ["integrations"];
  const Params = z.object({ id: IdOf("integration") });

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/integrations",
        access: "read",
        operationId: "listIntegrations",
        description:
          "The registered OpenAPI services and MCP servers with their discovered operations and where each is allow-listed. Secrets show as their ${VAR} reference or [redacted].",
        summary: "Integrations, their operations and allow-lists",
        tags,
        request: { query: PageQuery },
        responses: { 200: jsonResponse(IntegrationList, "a page of integrations") },
      },
      deps,
    ),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await integrations.list(q.limit, q.cursor), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/integrations",
        access: "admin",
        operationId: "createIntegration",
        description:
          "Register an OpenAPI service or an MCP server (HTTP or stdio) and discover its operations at once. Unreachable → 503 unless allow_offline. Link-local and metadata addresses are refused; private ones need allow_private. Admin only.",
        summary: "Register an integration and discover its operations",
        tags,
        request: jsonBody(IntegrationInput),
        responses: { 201: jsonResponse(Integration, "the integration, with what discovery found") },
      },
      deps,
    ),
    async (c) => c.json(await integrations.create(c.get("principal"), c.req.valid("json")), 201),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/integrations/{id}",
        access: "read",
        operationId: "getIntegration",
        description: "One integration: its settings (secrets hidden), status, operations and allow-list.",
        summary: "One integration",
        tags,
        request: { params: Params },
        responses: { 200: jsonResponse(Integration, "the integration") },
      },
      deps,
    ),
    async (c) => c.json(await integrations.get(c.req.valid("param").id), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "patch",
        path: "/ops/integrations/{id}",
        access: "admin",
        operationId: "updateIntegration",
        description:
          "Change an integration's settings. Changing where or how it is reached (base_url, stdio, headers, allow_private) discovers again. A secret sent back as [redacted] keeps its stored value. Admin only.",
        summary: "Change an integration's settings",
        tags,
        request: { params: Params, ...jsonBody(IntegrationPatch) },
        responses: { 200: jsonResponse(Integration, "the integration") },
      },
      deps,
    ),
    async (c) =>
      c.json(await integrations.patch(c.get("principal"), c.req.valid("param").id, c.req.valid("json")), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "delete",
        path: "/ops/integrations/{id}",
        access: "admin",
        operationId: "deleteIntegration",
        description:
          "Remove an integration: its operations disappear from every agent's and chat's tools. Admin only.",
        summary: "Remove an integration",
        tags,
        request: { params: Params },
        responses: { 200: jsonResponse(z.object({ deleted: z.boolean() }), "removed") },
      },
      deps,
    ),
    async (c) => c.json(await integrations.remove(c.get("principal"), c.req.valid("param").id), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/integrations/{id}/discover",
        access: "admin",
        operationId: "discoverIntegration",
        description:
          "Discover the integration's operations again (OpenAPI document or MCP tools/list). On failure it shows offline with the error and keeps the operations found before. Admin only.",
        summary: "Discover an integration's operations again",
        tags,
        request: { params: Params },
        responses: { 200: jsonResponse(Integration, "the integration after discovery") },
      },
      deps,
    ),
    async (c) => c.json(await integrations.rediscover(c.get("principal"), c.req.valid("param").id), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "put",
        path: "/ops/integrations/{id}/allowlist",
        access: "admin",
        operationId: "setIntegrationAllowlist",
        description:
          "Replace the allow-list: the discovered operations the executor agent and the chat planner may call, everywhere or only in the projects named. Admin only.",
        summary: "Allow-list operations, everywhere or per project",
        tags,
        request: { params: Params, ...jsonBody(AllowList) },
        responses: { 200: jsonResponse(Integration, "the integration with its new allow-list") },
      },
      deps,
    ),
    async (c) =>
      c.json(
        await integrations.setAllowlist(c.get("principal"), c.req.valid("param").id, c.req.valid("json")),
        200,
      ),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/integrations/{id}/test",
        access: "admin",
        operationId: "testIntegration",
        description:
          "Call one discovered operation through the gateway (validation, timeout, address guard, cap, audit), allow-listed or not, and see the outcome. Admin only.",
        summary: "Make a test call of one operation",
        tags,
        request: { params: Params, ...jsonBody(IntegrationTestCall) },
        responses: { 200: jsonResponse(CallOutcome, "the call's outcome: ok, or why not") },
      },
      deps,
    ),
    async (c) => {
      const row = await loadRow(deps.services.ctx.store.db, c.req.valid("param").id);
      const body = c.req.valid("json");
      const outcome = await gateway.call({
        integration: row.name,
        operation: body.operation,
        args: body.arguments,
        caller: "test",
        projectId: null,
        runId: null,
        principal: c.get("principal"),
        signal: c.req.raw.signal,
      });
      return c.json(outcome, 200);
    },
  );
}
