import { z } from "@hono/zod-openapi";
import { IdOf } from "./common.ts";

/**
 * What a coding agent reads before working on a project (MCP `ops://context`, `GET /ops/context`):
 * the repository's README and context files (`AGENTS.md`, `CLAUDE.md`, …) as committed at HEAD,
 * and a summary of its file tree. The same reading the planner is given.
 */
export const ContextFile = z
  .object({
    path: z.string().openapi({ example: "AGENTS.md" }),
    text: z.string().openapi({ description: "the file at HEAD, clipped to 12,000 characters" }),
    truncated: z.boolean(),
  })
  .openapi("ContextFile");

export const ProjectContext = z
  .object({
    project_id: IdOf("project"),
    repository: z.string().openapi({ description: "the repository's path or URL" }),
    available: z.boolean().openapi({ description: "false when the repository is not on this server's disk" }),
    tree: z.string().openapi({ description: "top-level directories with file counts, then the first paths" }),
    files: z.array(ContextFile),
  })
  .openapi("ProjectContext");
export type ProjectContext = z.infer<typeof ProjectContext>;
