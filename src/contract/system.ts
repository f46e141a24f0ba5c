import { z } from "@hono/zod-openapi";
import { Text, Timestamp } from "./common.ts";
import { RoleName } from "./token.ts";

export const Health = z.object({ ok: z.boolean() }).openapi("Health");

export const Ready = z
  .object({
    ok: z.boolean().openapi({ description: "the database answers and its schema is this version's" }),
    database: z.string().openapi({ description: "sqlite or postgres" }),
    database_ok: z.boolean(),
    migrations: z.object({
      latest: z.string().nullable().openapi({ description: "the newest migration applied" }),
      pending: z
        .array(z.string())
        .openapi({ description: "migrations this version knows and the database lacks" }),
    }),
    providers: z.object({ planner: z.boolean(), executor: z.boolean() }).openapi({
      description: "whether a model is configured per role (not probed: see /ops/providers/health)",
    }),
  })
  .openapi("Ready");
export type Ready = z.infer<typeof Ready>;

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

export const PurgeBody = z
  .object({
    dry_run: z.boolean().default(false).openapi({ description: "count what would go, delete nothing" }),
    older_than_days: z.number().int().min(0).max(36_500).optional().openapi({
      description: "purge runs that finished more than this many days ago (default: OPS_RUN_TTL)",
    }),
  })
  .strict()
  .openapi("PurgeBody");

export const PurgeResult = z
  .object({
    dry_run: z.boolean(),
    cutoff: Timestamp.openapi({ description: "runs that finished before this were (or would be) purged" }),
    runs: z.number().int(),
    log_lines: z.number().int(),
  })
  .openapi("PurgeResult");
export type PurgeResult = z.infer<typeof PurgeResult>;
