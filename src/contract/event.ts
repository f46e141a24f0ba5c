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
    broken_at: z
      .number()
      .int()
      .optional()
      .openapi({ description: "the first seq whose row does not fit the chain" }),
    reason: z.string().optional(),
  })
  .openapi("AuditVerify");
