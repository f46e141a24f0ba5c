import { z } from "@hono/zod-openapi";
import { IdOf, PageQuery } from "../../../contract/common.ts";
import { PlanDoc, PlanDocInput } from "../../../contract/plan-doc.ts";
import {
  Project,
  ProjectCreate,
  ProjectDeleted,
  ProjectPage,
  ProjectPatch,
} from "../../../contract/project.ts";
import { GimoError } from "../../../core/errors.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { pageFor } from "../page.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

const ProjectParams = z.object({ id: IdOf("project") });
const ProjectQuery = z.object({ project: IdOf("project").optional() });

export function registerProjectRoutes(app: HttpApp, deps: HttpDeps): void {
  const { projects, plans } = deps.services;
  const tags = ["projects"];

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/projects",
        access: "read",
        operationId: "listProjects",
        description:
          "List the git repositories GIMO works on, with their settings (base branch, test command, sandbox, budgets). Use a project id to scope tasks, drafts, runs and the plan.",
        summary: "List projects (git repositories GIMO works on)",
        tags,
        actions: true,
        request: { query: PageQuery },
        responses: { 200: jsonResponse(ProjectPage, "a page of projects") },
      },
      deps,
    ),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(pageFor(c, await projects.list(q.limit, q.cursor)), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/projects",
        access: "admin",
        operationId: "createProject",
        description:
          "Register a git repository (a local path or a URL) as a project with its settings. The first project registered becomes the default one. Admin only.",
        summary: "Register a git repository as a project",
        tags,
        request: jsonBody(ProjectCreate),
        responses: { 201: jsonResponse(Project, "the project") },
      },
      deps,
    ),
    async (c) => c.json(await projects.create(c.get("principal"), c.req.valid("json")), 201),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/projects/{id}",
        access: "read",
        operationId: "getProject",
        description:
          "One project's settings by id: repository, branches, test command, sandbox, budgets, forge and model overrides. Secrets are never returned.",
        summary: "Get a project",
        tags,
        actions: true,
        request: { params: ProjectParams },
        responses: { 200: jsonResponse(Project, "the project") },
      },
      deps,
    ),
    async (c) => c.json(await projects.get(c.req.valid("param").id), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "patch",
        path: "/ops/projects/{id}",
        access: "admin",
        operationId: "updateProject",
        description:
          "Change some of a project's settings (only the fields given). Admin only; recorded in the audit log.",
        summary: "Change a project's settings",
        tags,
        request: { params: ProjectParams, ...jsonBody(ProjectPatch) },
        responses: { 200: jsonResponse(Project, "the project") },
      },
      deps,
    ),
    async (c) =>
      c.json(await projects.patch(c.get("principal"), c.req.valid("param").id, c.req.valid("json")), 200),
  );

  for (const archived of [true, false]) {
    app.openapi(
      defineRoute(
        {
          method: "post",
          path: archived ? "/ops/projects/{id}/archive" : "/ops/projects/{id}/unarchive",
          access: "admin",
          operationId: archived ? "archiveProject" : "unarchiveProject",
          description: archived
            ? "Archive a project: it takes no new tasks, chats or runs (409 project_archived); queued and running runs finish and its history stays readable. 409 when already archived. Admin only."
            : "Reopen an archived project for new tasks, chats and runs. 409 when it is not archived. Admin only.",
          summary: archived ? "Archive a project (no new work)" : "Unarchive a project",
          tags,
          request: { params: ProjectParams },
          responses: { 200: jsonResponse(Project, "the project") },
        },
        deps,
      ),
      async (c) =>
        c.json(await projects.setArchived(c.get("principal"), c.req.valid("param").id, archived), 200),
    );
  }

  app.openapi(
    defineRoute(
      {
        method: "delete",
        path: "/ops/projects/{id}",
        access: "admin",
        operationId: "deleteProject",
        description:
          "Delete a project nothing references: 409 in_use while it has tasks or chats (archive it instead) or when it is the default project. Its audit events stay. Admin only.",
        summary: "Delete an unused project",
        tags,
        request: { params: ProjectParams },
        responses: { 200: jsonResponse(ProjectDeleted, "the project was deleted") },
      },
      deps,
    ),
    async (c) => {
      const { id } = c.req.valid("param");
      await projects.delete(c.get("principal"), id);
      return c.json({ id, deleted: true as const }, 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/plan",
        access: "read",
        operationId: "getPlan",
        description:
          "The project's living plan document given to the planner: objective, context, constraints, default_auto_run and require_distinct_approver, with its version. Without project, the default project.",
        summary: "The project's living plan: objective, context, constraints and approval rules",
        tags,
        actions: true,
        request: { query: ProjectQuery },
        responses: { 200: jsonResponse(PlanDoc, "the plan; its version is also the ETag") },
      },
      deps,
    ),
    async (c) => {
      const doc = await plans.get(c.req.valid("query").project);
      c.header("etag", `"${doc.version}"`);
      return c.json(doc, 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "put",
        path: "/ops/plan",
        access: "admin",
        operationId: "putPlan",
        description:
          "Replace the project's plan document. Send If-Match with the version you read: a stale version answers 409 and nothing changes. Admin only.",
        summary: "Replace the project's plan; send If-Match with the version you read (409 when stale)",
        tags,
        request: {
          query: ProjectQuery,
          headers: z.object({ "if-match": z.string().max(40).optional() }),
          ...jsonBody(PlanDocInput),
        },
        responses: { 200: jsonResponse(PlanDoc, "the new plan") },
      },
      deps,
    ),
    async (c) => {
      const ifMatch = parseIfMatch(c.req.header("if-match"));
      const doc = await plans.put(
        c.get("principal"),
        c.req.valid("query").project,
        ifMatch,
        c.req.valid("json"),
      );
      c.header("etag", `"${doc.version}"`);
      return c.json(doc, 200);
    },
  );
}

/** Accepts `3`, `"3"` or `W/"3"`. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === "*") return undefined;
  const match = header.trim().match(/^(?:W\/)?"?(\d{1,12})"?$/);
  if (!match)
    throw new GimoError("validation_failed", "If-Match must be the plan version you read, e.g. If-Match: 3");
  return Number(match[1]);
}
