import { z } from "@hono/zod-openapi";
import { taskStatuses } from "../core/task-status.ts";
import { Approved } from "./approved.ts";
import { Cursor, IdOf, Limit, PageOf, Timestamp } from "./common.ts";
import { Draft } from "./draft.ts";
import { Run } from "./run.ts";

export const TaskStatus = z.enum(taskStatuses).openapi("TaskStatus");

export const Task = z
  .object({
    id: IdOf("task"),
    project_id: IdOf("project"),
    prompt: z.string(),
    status: TaskStatus,
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Task");
export type Task = z.infer<typeof Task>;

export const TaskPage = PageOf(Task, "TaskPage");

export const TaskDetail = Task.extend({
  drafts: z.array(Draft).openapi({ description: "every revision, oldest first" }),
  approved: z.array(Approved),
  runs: z.array(Run).openapi({ description: "newest first" }),
  branch: z.string().nullable(),
  link: z.string().nullable(),
}).openapi("TaskDetail");

export const TaskQuery = z.object({
  status: TaskStatus.optional(),
  project: IdOf("project").optional(),
  limit: Limit,
  cursor: Cursor,
});
