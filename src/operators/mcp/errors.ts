import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { kindOfId } from "../../core/ids.ts";
import { ApiError } from "./api.ts";

/**
 * How a refusal reaches the model. A tool answers an error result (`isError: true`) with GIMO's
 * code and message, so the model can read and correct it; a draft id where an approved id is
 * expected says exactly that, and that only a person can approve.
 */
export function draftIdMessage(id: string): string {
  return `${id} is a draft id, not an approved plan id: only approved plans can run. A person must approve the draft first (web UI, \`gimo approve ${id}\`, or POST /ops/drafts/${id}/approve) — there is no approve tool; then use the approved id (a_…) the approval returns.`;
}

/** Throws the draft-id refusal when `id` names a draft. */
export function assertNotDraftId(id: string): void {
  if (kindOfId(id) === "draft") throw new ApiError(403, "approval_required", draftIdMessage(id));
}

export function errorMessage(error: unknown, idGiven?: string): string {
  if (error instanceof ApiError) {
    if (error.code === "approval_required" && idGiven && kindOfId(idGiven) === "draft")
      return `approval_required (403): ${draftIdMessage(idGiven)}`;
    return `${error.code} (${error.status}): ${error.message}`;
  }
  const text = error instanceof Error ? error.message : String(error);
  return `GIMO could not be reached: ${text}`;
}

export function toolError(error: unknown, idGiven?: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: errorMessage(error, idGiven) }] };
}
