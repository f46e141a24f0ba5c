import { z } from "@hono/zod-openapi";
import { Text, Timestamp } from "./common.ts";

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
