import { WhoAmI } from "../../../contract/token.ts";
import type { HttpApp } from "../app.ts";
import type { HttpDeps } from "../env.ts";
import { defineRoute, jsonResponse } from "../route.ts";

/** `GET /ops/whoami`: the caller's identity and role, for any valid token. */
export function registerWhoamiRoute(app: HttpApp, deps: HttpDeps): void {
  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/whoami",
        access: "any",
        operationId: "whoami",
        summary: "The identity and role of the calling token",
        tags: ["tokens"],
        responses: { 200: jsonResponse(WhoAmI, "who the token is") },
      },
      deps,
    ),
    (c) => {
      const p = c.get("principal");
      return c.json({ actor: p.actor, role: p.role, token_id: p.tokenId }, 200);
    },
  );
}
