import { z } from "@hono/zod-openapi";
import { Cursor, IdOf, Limit, PageOf, Timestamp } from "./common.ts";
import { PlanContent } from "./plan.ts";

/** The immutable snapshot of a draft at approval. Only these can run. */
export const Approved = z
  .object({
    id: IdOf("approved"),
    draft_id: IdOf("draft"),
    task_id: IdOf("task"),
    project_id: IdOf("project"),
    prompt: z.string(),
    plan: PlanContent,
    content_hash: z.string().openapi({ example: "sha256:9f86d0…" }),
    approved_by: z.string(),
    approved_at: Timestamp,
    auto_run: z.boolean(),
  })
  .openapi("Approved");
export type Approved = z.infer<typeof Approved>;

export const ApprovedPage = PageOf(Approved, "ApprovedPage");

export const ApprovedQuery = z.object({
  task: IdOf("task").optional(),
  project: IdOf("project").optional(),
  limit: Limit,
  cursor: Cursor,
});
