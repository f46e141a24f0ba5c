import { z } from "@hono/zod-openapi";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { IdOf } from "../../contract/common.ts";
import { Draft, DraftCreate } from "../../contract/draft.ts";
import { Run, RunCreate } from "../../contract/run.ts";
import { RunLogPage } from "../../contract/runner.ts";
import { TaskPage, TaskQuery } from "../../contract/task.ts";
import type { GimoApi } from "./api.ts";
import { toolError } from "./errors.ts";
import { draftText, logsText, runText, tasksText } from "./text.ts";

/**
 * The MCP tools of SPEC §7.3. Inputs are the contract's own schemas; each tool is one REST call
 * with the caller's token, answered as a short text plus the REST answer as structured content.
 * There is deliberately no approve tool: a model cannot approve its own plan.
 */
export function registerTools(server: McpServer, api: GimoApi): void {
  server.registerTool(
    "create_draft",
    {
      title: "Create a draft plan",
      description:
        "Propose a plan for a development task on a GIMO project: a prompt, and optionally the plan itself (title, steps, acceptance). Creates a task and its draft, which a person must approve before anything runs.",
      inputSchema: DraftCreate,
      outputSchema: Draft,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async (input) => answer(() => api.createDraft(input), draftText),
  );

  server.registerTool(
    "list_tasks",
    {
      title: "List tasks",
      description:
        "List GIMO tasks, newest first, with their derived status (PLANNING, PLANNED, APPROVED, EXECUTING, COMPLETED, FAILED, REJECTED, CANCELLED); filter by status or project.",
      inputSchema: TaskQuery,
      outputSchema: TaskPage,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (query) =>
      answer(
        () => api.listTasks(query),
        (page) => tasksText(page.items, page.next_cursor),
      ),
  );

  server.registerTool(
    "create_run",
    {
      title: "Run an approved plan",
      description:
        "Queue a run of an approved plan (id a_…) on GIMO's runners, which execute it on a task branch and push it. A draft id (d_…) is refused: only approved plans can run.",
      inputSchema: RunCreate,
      outputSchema: Run,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async (input) => answer(() => api.createRun(input), runText, input.approved_id),
  );

  server.registerTool(
    "get_run_status",
    {
      title: "Get a run's status",
      description: "A run's state, steps, branch, link and error (run id r_…).",
      inputSchema: z.object({ run_id: IdOf("run") }),
      outputSchema: Run,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ run_id }) => answer(() => api.getRun(run_id), runText),
  );

  server.registerTool(
    "get_run_logs",
    {
      title: "Get a run's log lines",
      description:
        "A run's log lines, oldest first; pass `after` (the last seq you saw) to read only new ones.",
      inputSchema: z.object({
        run_id: IdOf("run"),
        after: z.number().int().min(0).optional().describe("return lines after this seq"),
        limit: z
          .number()
          .int()
          .min(1)
          .max(1_000)
          .optional()
          .describe("at most this many lines (default 200)"),
      }),
      outputSchema: RunLogPage,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ run_id, after, limit }) =>
      answer(
        () => api.runLogs(run_id, { after, limit }),
        (page) => logsText(run_id, page),
      ),
  );
}

async function answer<T extends object>(
  call: () => Promise<T>,
  text: (value: T) => string,
  idGiven?: string,
): Promise<CallToolResult> {
  try {
    const value = await call();
    return {
      content: [{ type: "text", text: text(value) }],
      structuredContent: value as Record<string, unknown>,
    };
  } catch (error) {
    return toolError(error, idGiven);
  }
}
