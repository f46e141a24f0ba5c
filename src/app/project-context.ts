import type { ProjectContext } from "../contract/project-context.ts";
import { contextFiles } from "../git/context.ts";
import type { AppContext } from "./context.ts";
import { loadProjectRow, type ProjectService } from "./projects.ts";

/**
 * A project's repository context for coding agents (`GET /ops/context`, MCP `ops://context`): the
 * README and agent context files at HEAD and the tree summary — what the planner reads too. A
 * project known only by URL has no checkout on this server: it answers `available: false`.
 */
export async function projectContext(
  ctx: AppContext,
  projects: ProjectService,
  projectId: string | undefined,
): Promise<ProjectContext> {
  const id = await projects.resolveId(ctx.store.db, projectId);
  const row = await loadProjectRow(ctx.store.db, id);
  if (!row.repo_path) {
    return { project_id: id, repository: row.repo_url ?? "", available: false, tree: "", files: [] };
  }
  const { tree, files } = await contextFiles(row.repo_path);
  return { project_id: id, repository: row.repo_path, available: true, tree, files };
}
