import { z } from "@hono/zod-openapi";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, type GetPromptResult, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Approved } from "../../contract/approved.ts";
import { RunCreate } from "../../contract/run.ts";
import type { GimoApi } from "./api.ts";
import { assertNotDraftId, errorMessage } from "./errors.ts";
import { approvedMarkdown } from "./text.ts";

/**
 * The MCP prompts of SPEC §7.3: ways for a coding agent to take up an approved plan. Each reads
 * the approved snapshot (a draft id is an error: only approved work is dispatched) and hands the
 * agent the plan with its content hash, so what it does can be traced to what a person approved.
 *  - `orch_dispatch`: queue it on GIMO's runners and follow it to its end;
 *  - `sub_dispatch`: hand it to one of the client's own sub-agents, to do in the local checkout;
 *  - `editp_dispatch`: do the part of it that concerns one file.
 */
const ApprovedId = RunCreate.shape.approved_id.describe("an approved plan id (a_…), not a draft id");

export function registerPrompts(server: McpServer, api: GimoApi): void {
  server.registerPrompt(
    "orch_dispatch",
    {
      title: "Dispatch an approved plan to GIMO's runners",
      description: "Queue a run of an approved plan with create_run and follow it to its branch link.",
      argsSchema: { approved_id: ApprovedId },
    },
    async ({ approved_id }) =>
      prompt(api, approved_id, (a) =>
        [
          `Dispatch the approved GIMO plan ${a.id} (content hash ${a.content_hash}).`,
          `1. Call create_run with approved_id "${a.id}".`,
          "2. Follow it with get_run_status and get_run_logs (pass `after` the last seq) until it is succeeded, failed or cancelled.",
          "3. Report the outcome: the branch and link when it succeeded, the error code and the last log lines when it did not.",
          "Do not change the plan and do not start other runs. The plan:",
          approvedMarkdown(a),
        ].join("\n\n"),
      ),
  );

  server.registerPrompt(
    "sub_dispatch",
    {
      title: "Hand an approved plan to a sub-agent",
      description: "Delegate an approved plan to one of your sub-agents, to carry out exactly as approved.",
      argsSchema: {
        approved_id: ApprovedId,
        agent: z.string().min(1).max(100).describe("the sub-agent's name"),
      },
    },
    async ({ approved_id, agent }) =>
      prompt(api, approved_id, (a) =>
        [
          `Delegate the approved GIMO plan ${a.id} (content hash ${a.content_hash}) to the sub-agent "${agent}".`,
          `Give "${agent}" the plan below as its whole brief: it carries out the steps in order, on a branch of its own, and stops when every acceptance criterion holds. Anything the plan does not cover is out of scope: it reports it instead of doing it.`,
          "When it is done, check each acceptance criterion yourself and report which hold.",
          approvedMarkdown(a),
        ].join("\n\n"),
      ),
  );

  server.registerPrompt(
    "editp_dispatch",
    {
      title: "Edit one file as an approved plan says",
      description: "Carry out the part of an approved plan that concerns one file.",
      argsSchema: {
        approved_id: ApprovedId,
        file: z.string().min(1).max(1_000).describe("the file's path in the repository"),
      },
    },
    async ({ approved_id, file }) =>
      prompt(api, approved_id, (a) =>
        [
          `Edit ${file} as the approved GIMO plan ${a.id} (content hash ${a.content_hash}) says.`,
          `Change only ${file}, and only what the plan asks of it; if the plan needs changes elsewhere, list them instead of making them. Then run the project's tests and say whether the acceptance criteria that concern this file hold.`,
          approvedMarkdown(a),
        ].join("\n\n"),
      ),
  );
}

async function prompt(
  api: GimoApi,
  approvedId: string,
  text: (a: Approved) => string,
): Promise<GetPromptResult> {
  try {
    assertNotDraftId(approvedId);
    const approved = await api.getApproved(approvedId);
    return {
      description: `${approved.plan.title} (${approved.id})`,
      messages: [{ role: "user", content: { type: "text", text: text(approved) } }],
    };
  } catch (error) {
    throw new McpError(ErrorCode.InvalidParams, errorMessage(error));
  }
}
