import { z } from "@hono/zod-openapi";
import { Text, Timestamp } from "./common.ts";
import { RoleName } from "./token.ts";

export const Health = z.object({ ok: z.boolean() }).openapi("Health");

export const Ready = z.object({ ok: z.boolean(), database: z.string() }).openapi("Ready");

export const Panic = z
  .object({
    on: z.boolean(),
    reason: z.string().nullable(),
    since: Timestamp.nullable(),
    by: z.string().nullable(),
  })
  .openapi("Panic");
export type Panic = z.infer<typeof Panic>;

export const PanicBody = z
  .object({ on: z.boolean(), reason: Text(2_000).optional() })
  .strict()
  .openapi("PanicBody");

export const Status = z
  .object({
    name: z.literal("gimo"),
    version: z.string(),
    uptime_seconds: z.number(),
    storage: z.enum(["sqlite", "postgres"]),
    panic: Panic,
    runners_online: z.number().int(),
    queue: z.object({
      queued: z.number().int(),
      running: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    }),
  })
  .openapi("Status");

/** Who a bearer token is: what `gimo login` and `gimo whoami` check. */
export const Whoami = z
  .object({
    actor: z.string().openapi({ description: "the identity written in the audit log" }),
    role: RoleName,
    token_id: z.string().nullable().openapi({ description: "a minted token's id; null for ORCH_*_TOKEN" }),
  })
  .openapi("Whoami");
