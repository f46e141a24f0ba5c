import { z } from "@hono/zod-openapi";
import { projectContext } from "../../../app/project-context.ts";
import { IdOf } from "../../../contract/common.ts";
import { ProjectContext } from "../../../contract/project-context.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonResponse } from "../route.ts";

/** `GET /ops/context`: the repository context a coding agent needs (README, AGENTS.md, CLAUDE.md…). */
export function registerContextRoutes(app: HttpApp, deps: HttpDeps): void {
  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/context",
        access: "read",
        operationId: "getProjectContext",
        summary: "The repository's context files for coding agents",
        description:
          "The project's README and agent context files (GPT_CONTEXT.md, DECISIONS.md, AGENTS.md, CLAUDE.md, .gimo/context.md) as committed at HEAD, each clipped to 12,000 characters, and a summary of the file tree. Without `project`, the default project.",
        tags: ["projects"],
        request: { query: z.object({ project: IdOf("project").optional() }) },
        responses: { 200: jsonResponse(ProjectContext, "the project's context files") },
      },
      deps,
    ),
    async (c) =>
      c.json(
        await projectContext(deps.services.ctx, deps.services.projects, c.req.valid("query").project),
        200,
      ),
  );
}
