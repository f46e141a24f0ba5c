import { z } from "@hono/zod-openapi";
import { ProviderSettings } from "../../../app/providers.ts";
import {
  CredentialId,
  CredentialList,
  CredentialProvide,
  CredentialRequest,
} from "../../../contract/planning.ts";
import { ProvidersHealth, ProvidersView } from "../../../contract/provider.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

/** Providers (secrets never returned) and credential requests (values go in, never out). */
export function registerProviderRoutes(app: HttpApp, deps: HttpDeps): void {
  const { providers, credentials } = deps.services;
  const tags = ["providers"];

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/provider",
        access: "read",
        operationId: "getProviders",
        description:
          "The model providers configured for planning and execution. Keys are never returned: a secret shows only as a ${VAR} reference or as set.",
        summary: "The planner and executor models; API keys show as their ${VAR} reference or [redacted]",
        tags,
        responses: { 200: jsonResponse(ProvidersView, "providers") },
      },
      deps,
    ),
    async (c) => c.json(await providers.view(), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "put",
        path: "/ops/provider",
        access: "admin",
        operationId: "putProviders",
        description:
          "Replace the model provider settings. Secrets may be ${VAR} references (resolved from the environment or the vault) or literals, which are sealed at rest. Admin only.",
        summary:
          'Configure the planner and/or executor model; prefer api_key: "${OPENAI_API_KEY}" over a literal key',
        tags,
        request: jsonBody(ProviderSettings),
        responses: { 200: jsonResponse(ProvidersView, "providers") },
      },
      deps,
    ),
    async (c) => {
      await providers.put(c.get("principal"), c.req.valid("json"));
      return c.json(await providers.view(), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/provider/health",
        access: "read",
        operationId: "getProviderHealth",
        description:
          "Whether each configured model provider answers, with its latency or error. Use it when drafts fail to generate.",
        summary: "Checks each configured model (models list or a minimal call) and reports latency",
        tags,
        responses: { 200: jsonResponse(ProvidersHealth, "health per role") },
      },
      deps,
    ),
    async (c) => c.json(await providers.health(), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/requests",
        access: "secret_read",
        operationId: "listCredentialRequests",
        description:
          "Secrets the configuration needs but cannot find (for example OPENAI_API_KEY), each WAITING or PROVIDED. Values are never shown. Admin only.",
        summary: "Secrets the configuration needs (REQ-001…), WAITING or PROVIDED; never their values",
        tags,
        responses: { 200: jsonResponse(CredentialList, "credential requests") },
      },
      deps,
    ),
    async (c) => c.json({ items: await credentials.list() }, 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "put",
        path: "/ops/requests/{id}",
        access: "admin",
        operationId: "provideCredential",
        description:
          "Store the value of a credential request in the encrypted vault; it is never readable again. Admin only.",
        summary: "Store a secret's value in the encrypted vault; it is never readable again",
        tags,
        request: { params: z.object({ id: CredentialId }), ...jsonBody(CredentialProvide) },
        responses: { 200: jsonResponse(CredentialRequest, "the request, now PROVIDED") },
      },
      deps,
    ),
    async (c) => {
      c.header("cache-control", "no-store");
      return c.json(
        await credentials.provide(c.get("principal"), c.req.valid("param").id, c.req.valid("json").value),
        200,
      );
    },
  );
}
