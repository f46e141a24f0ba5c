import type { MiddlewareHandler } from "hono";
import { GimoError } from "../../../core/errors.ts";
import { type Access, roleAllows } from "../../../core/roles.ts";
import type { HttpDeps, HttpEnv } from "../env.ts";

/** `Authorization: Bearer <token>` → principal; 401 when missing or unknown, 403 when the role may not. */
export function requireAccess(access: Access, deps: HttpDeps): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (access === "public") return next();
    const token = bearerToken(c.req.header("authorization"));
    if (!token)
      throw new GimoError("unauthorized", "missing bearer token: send Authorization: Bearer <token>");
    const principal = await deps.services.tokens.authenticate(token);
    if (!principal) throw new GimoError("unauthorized", "unknown, revoked or expired token");
    if (!roleAllows(principal.role, access)) {
      throw new GimoError("forbidden", `role ${principal.role} may not do this (needs ${access})`);
    }
    c.set("principal", principal);
    return next();
  };
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S{1,512})\s*$/i);
  return match?.[1];
}
