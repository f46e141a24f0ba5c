import { z } from "@hono/zod-openapi";
import { Timestamp } from "./common.ts";

/** One entry of the append-only, hash-chained event log. */
export const Event = z
  .object({
    seq: z.number().int(),
    ts: Timestamp,
    actor: z.string(),
    role: z.string(),
    type: z.string().openapi({ example: "draft.approved" }),
    subject: z.string().openapi({ description: "the id the event is about" }),
    data: z.record(z.string(), z.unknown()),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .openapi("Event");
export type Event = z.infer<typeof Event>;

export const EventPage = z
  .object({ items: z.array(Event), next_cursor: z.string().nullable() })
  .openapi("EventPage");

export const AuditVerify = z
  .object({
    ok: z.boolean(),
    checked: z.number().int(),
    broken_at: z.number().int().optional().openapi({
      description:
        "the first seq whose row does not fit the chain; for an approved snapshot that does not match its approval, the seq of its draft.approved event",
    }),
    reason: z.string().optional().openapi({ description: "what is wrong, in words" }),
  })
  .openapi("AuditVerify");

/** The last event of the chain: record it somewhere else, and prove later that it is still there. */
export const AuditHead = z
  .object({
    seq: z.number().int(),
    hash: z.string().openapi({ example: "sha256:9f86d0…" }),
  })
  .openapi("AuditHead");
export type AuditHead = z.infer<typeof AuditHead>;

export const AuditVerifyQuery = z.object({
  head: z
    .string()
    .regex(/^\d{1,15}:sha256:[0-9a-f]{64}$/, "must be <seq>:<hash> as GET /ops/audit/head answered")
    .optional()
    .openapi({
      description:
        "a head recorded earlier (`<seq>:<hash>` from GET /ops/audit/head): verify also proves that event seq still exists with that hash and the chain holds through it, so nothing after it was removed or rewritten",
    }),
});
