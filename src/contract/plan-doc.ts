import { z } from "@hono/zod-openapi";
import { IdOf, Line, Text, Timestamp } from "./common.ts";

/** The per-project living document given to the planner (SPEC §1 "plan"). */
export const PlanDocInput = z
  .object({
    objective: Text(20_000).default(""),
    context: Text(200_000).default(""),
    constraints: z.array(Line(1_000)).max(100).default([]),
    default_auto_run: z.boolean().default(false),
    require_distinct_approver: z.boolean().default(false),
  })
  .strict()
  .openapi("PlanDocInput");
export type PlanDocInput = z.infer<typeof PlanDocInput>;

export const PlanDoc = z
  .object({
    project_id: IdOf("project"),
    objective: z.string(),
    context: z.string(),
    constraints: z.array(z.string()),
    default_auto_run: z.boolean(),
    require_distinct_approver: z.boolean(),
    version: z.number().int().openapi({ description: "send it back as If-Match on PUT" }),
    updated_at: Timestamp,
    updated_by: z.string().nullable(),
  })
  .openapi("PlanDoc");
export type PlanDoc = z.infer<typeof PlanDoc>;
