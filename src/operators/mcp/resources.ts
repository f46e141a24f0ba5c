import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError, type ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { type EntityKind, idPattern } from "../../core/ids.ts";
import { ApiError, type GimoApi } from "./api.ts";
import { assertNotDraftId, errorMessage } from "./errors.ts";
import { approvedMarkdown, contextMarkdown } from "./text.ts";

/**
 * The MCP resources of SPEC §7.3, all on the default project: the plan document, approved plans
 * (the list and each one), runs, and `ops://context` — what a coding agent reads before it works.
 */
const OPEN_TASKS = new Set(["PLANNING", "PLANNED", "APPROVED", "EXECUTING", "FAILED"]);
const RECENT_RUNS = 10;

export function registerResources(server: McpServer, api: GimoApi): void {
  server.registerResource(
    "plan",
    "ops://plan",
    {
      title: "Plan document",
      description: "The project's living plan: objective, context, constraints, approval rules.",
      mimeType: "application/json",
    },
    async (uri) => read(uri, "application/json", async () => json(await api.getPlan())),
  );

  server.registerResource(
    "approved",
    "ops://approved",
    {
      title: "Approved plans",
      description: "The newest approved plans (a_…): only these can run.",
      mimeType: "application/json",
    },
    async (uri) => read(uri, "application/json", async () => json(await api.listApproved({ limit: 50 }))),
  );

  server.registerResource(
    "approved-plan",
    new ResourceTemplate("ops://approved/{id}", {
      list: async () => {
        const page = await api.listApproved({ limit: 50 });
        return {
          resources: page.items.map((a) => ({
            uri: `ops://approved/${a.id}`,
            name: a.id,
            title: a.plan.title,
            mimeType: "text/markdown",
          })),
        };
      },
    }),
    {
      title: "An approved plan",
      description: "One approved plan (a_…) as markdown: steps, acceptance, risk and its content hash.",
      mimeType: "text/markdown",
    },
    async (uri, { id }) =>
      read(uri, "text/markdown", async () => {
        const approvedId = String(id);
        assertNotDraftId(approvedId);
        return approvedMarkdown(await api.getApproved(idOf("approved", approvedId)));
      }),
  );

  server.registerResource(
    "run",
    new ResourceTemplate("ops://runs/{id}", { list: undefined }),
    {
      title: "A run",
      description: "One run (r_…): state, steps, file changes, tests, branch, link, error.",
      mimeType: "application/json",
    },
    async (uri, { id }) =>
      read(uri, "application/json", async () => json(await api.getRun(idOf("run", String(id))))),
  );

  server.registerResource(
    "context",
    "ops://context",
    {
      title: "Project context for coding agents",
      description:
        "Everything to read before working on the project: the plan document, open tasks, recent runs and the repository's context files (README, AGENTS.md, CLAUDE.md…).",
      mimeType: "text/markdown",
    },
    async (uri) =>
      read(uri, "text/markdown", async () => {
        const plan = await api.getPlan();
        const [tasks, runs, repo] = await Promise.all([
          api.listTasks({ project: plan.project_id, limit: 100 }),
          api.listRuns({ project: plan.project_id, limit: RECENT_RUNS }),
          api.getProjectContext(plan.project_id),
        ]);
        return contextMarkdown({
          plan,
          tasks: tasks.items.filter((t) => OPEN_TASKS.has(t.status)),
          runs: runs.items,
          repo,
        });
      }),
  );
}

/** An id from a resource URI, checked before it becomes part of a REST path. */
function idOf(kind: EntityKind, id: string): string {
  if (!idPattern(kind).test(id)) throw new ApiError(400, "validation_failed", `${id} is not a ${kind} id`);
  return id;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

async function read(uri: URL, mimeType: string, text: () => Promise<string>): Promise<ReadResourceResult> {
  try {
    return { contents: [{ uri: uri.href, mimeType, text: await text() }] };
  } catch (error) {
    throw new McpError(ErrorCode.InvalidParams, errorMessage(error));
  }
}
