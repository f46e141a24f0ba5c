import { z } from "@hono/zod-openapi";
import { roles } from "../core/roles.ts";
import { IdOf, Line, PageOf, Timestamp } from "./common.ts";

export const RoleName = z.enum(roles).openapi("Role");

export const TokenCreate = z
  .object({
    name: Line(100)
      .regex(/^[A-Za-z0-9._@:-]+$/, "letters, digits and . _ @ : - only")
      .openapi({
        description:
          "the token's identity in the audit log; names starting with env: or system (any case), and embedded-runner, are reserved (400)",
      }),
    role: RoleName,
    expires_at: z.iso.datetime().optional(),
  })
  .strict()
  .openapi("TokenCreate");

export const TokenInfo = z
  .object({
    id: IdOf("token"),
    name: z.string(),
    role: RoleName,
    created_by: z.string(),
    created_at: Timestamp,
    expires_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable(),
  })
  .openapi("TokenInfo");

export const TokenCreated = TokenInfo.extend({
  token: z.string().optional().openapi({
    description:
      "shown once, now; only its hash is stored. Absent from an Idempotency-Key replay (idempotent-replayed: true): the value is never kept to be shown again — revoke the token and mint another if it was lost",
  }),
}).openapi("TokenCreated");

export const TokenPage = PageOf(TokenInfo, "TokenPage");

/** Who the caller's token says it is: the UI and the CLI show it and hide what the role may not do. */
export const WhoAmI = z
  .object({
    actor: z.string().openapi({ description: "the identity the audit log records" }),
    role: RoleName,
    token_id: z.string().nullable().openapi({ description: "a minted token's id; null for ORCH_* tokens" }),
  })
  .openapi("WhoAmI");
export type WhoAmI = z.infer<typeof WhoAmI>;
