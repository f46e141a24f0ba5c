import { z } from "@hono/zod-openapi";
import { IdOf } from "../../../contract/common.ts";
import { TaskDetail, TaskPage, TaskQuery } from "../../../contract/task.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { pageFor } from "../page.ts";
import { defineRoute, jsonResponse } from "../route.ts";

export function registerTaskRoutes(app: HttpApp, deps: HttpDeps): void {
  const { tasks } = deps.services;
  const tags = ["tasks"];

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/tasks",
        access: "read",
        operationId: "listTasks",
        description:
          "List tasks (one user request each), newest first, with their derived status: PLANNING, PLANNED, APPROVED, EXECUTING, COMPLETED, FAILED, REJECTED or CANCELLED. Filter by status or project.",
        summary: "List tasks, newest first; filter by derived status or project",
        tags,
        actions: true,
        request: { query: TaskQuery },
        responses: { 200: jsonResponse(TaskPage, "a page of tasks") },
      },
      deps,
    ),
    async (c) => c.json(pageFor(c, await tasks.list(c.req.valid("query"))), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/tasks/{id}",
        access: "read",
        operationId: "getTask",
        description:
          "One task with everything about it: its drafts (every revision), its approval, its runs (newest first), and the branch and link of its latest run.",
        summary: "A task with its drafts (oldest first), approvals, runs, branch and link",
        tags,
        actions: true,
        request: { params: z.object({ id: IdOf("task") }) },
        responses: { 200: jsonResponse(TaskDetail, "the task") },
      },
      deps,
    ),
    async (c) => c.json(await tasks.get(c.req.valid("param").id), 200),
  );
}
