import { z } from "@hono/zod-openapi";
import { IdOf, PageQuery } from "../../../contract/common.ts";
import { TokenCreate, TokenCreated, TokenInfo, TokenPage } from "../../../contract/token.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

export function registerTokenRoutes(app: HttpApp, deps: HttpDeps): void {
  const { tokens } = deps.services;
  const tags = ["tokens"];

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/tokens",
        access: "admin",
        operationId: "listTokens",
        description:
          "API tokens minted with createToken: id, name, role, expiry, last use. Values are never shown again. Admin only.",
        summary: "List minted tokens (never their values)",
        tags,
        request: { query: PageQuery },
        responses: { 200: jsonResponse(TokenPage, "a page of tokens") },
      },
      deps,
    ),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await tokens.list(q.limit, q.cursor), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/tokens",
        access: "admin",
        operationId: "createToken",
        description:
          "Mint a bearer token with a role (actions, operator, admin, runner) and an optional expiry. The value is in this answer only; it is stored as a hash. Admin only.",
        summary: "Mint a token for a role; its value is shown once, in this response",
        tags,
        secretFields: ["token"],
        request: jsonBody(TokenCreate),
        responses: { 201: jsonResponse(TokenCreated, "the token, with its value") },
      },
      deps,
    ),
    async (c) => {
      c.header("cache-control", "no-store");
      return c.json(await tokens.mint(c.get("principal"), c.req.valid("json")), 201);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "delete",
        path: "/ops/tokens/{id}",
        access: "admin",
        operationId: "revokeToken",
        description:
          "Revoke a minted token at once: its next request is 401 and the event streams it opened end. Admin only.",
        summary: "Revoke a token; it stops working at once",
        tags,
        request: { params: z.object({ id: IdOf("token") }) },
        responses: { 200: jsonResponse(TokenInfo, "the revoked token") },
      },
      deps,
    ),
    async (c) => c.json(await tokens.revoke(c.get("principal"), c.req.valid("param").id), 200),
  );
}
