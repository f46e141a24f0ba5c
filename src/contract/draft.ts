import { z } from "@hono/zod-openapi";
import { draftStatuses } from "../core/draft-machine.ts";
import { Approved } from "./approved.ts";
import { Cursor, IdOf, Limit, PageOf, Text, Timestamp } from "./common.ts";
import { PlanContent } from "./plan.ts";
import { Run } from "./run.ts";

export const DraftStatus = z.enum(draftStatuses).openapi("DraftStatus");

export const Draft = z
  .object({
    id: IdOf("draft"),
    task_id: IdOf("task"),
    project_id: IdOf("project"),
    rev: z.number().int(),
    status: DraftStatus,
    prompt: z.string(),
    plan: PlanContent.nullable(),
    error: z.string().nullable(),
    prompt_hash: z
      .string()
      .nullable()
      .openapi({ description: "content hash of the prompt set the planner used" }),
    usage: z
      .object({ input_tokens: z.number().int(), output_tokens: z.number().int() })
      .nullable()
      .openapi({ description: "tokens the planner used to write it" }),
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Draft");
export type Draft = z.infer<typeof Draft>;

export const DraftPage = PageOf(Draft, "DraftPage");

export const DraftCreate = z
  .object({
    prompt: Text(20_000).min(1),
    project: IdOf("project").optional(),
    task_id: IdOf("task").optional(),
    plan: PlanContent.optional(),
  })
  .strict()
  .openapi("DraftCreate");
export type DraftCreate = z.infer<typeof DraftCreate>;

export const DraftEdit = z
  .object({ prompt: Text(20_000).min(1).optional(), plan: PlanContent.optional() })
  .strict()
  .refine((e) => e.prompt !== undefined || e.plan !== undefined, "give prompt, plan or both")
  .openapi("DraftEdit");
export type DraftEdit = z.infer<typeof DraftEdit>;

export const DraftQuery = z.object({
  status: DraftStatus.optional(),
  task: IdOf("task").optional(),
  project: IdOf("project").optional(),
  limit: Limit,
  cursor: Cursor,
});

export const ApproveBody = z
  .object({
    auto_run: z.boolean().optional().openapi({ description: "default: the plan's default_auto_run" }),
    content_hash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex>")
      .optional()
      .openapi({
        description:
          "the content hash of the plan the approver reviewed (sha256 of its canonical JSON): when the draft's plan no longer hashes to it, the approval is refused (409 conflict)",
      }),
  })
  .strict()
  .openapi("ApproveBody");

export const RejectBody = z
  .object({ reason: Text(2_000).optional() })
  .strict()
  .openapi("RejectBody");

export const ApproveResult = z.object({ approved: Approved, run: Run.nullable() }).openapi("ApproveResult");
