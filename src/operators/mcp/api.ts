/**
 * Every REST call the MCP server makes, in one place. MCP adds no rule of its own: each tool,
 * resource and prompt is a call to the REST API with the caller's bearer token, so roles, panic
 * mode, validation and the approval gate hold exactly as they do over HTTP. The calls are the
 * typed client's (src/client/): over the network in stdio mode (`gimo mcp` → a GIMO server), and
 * through the Hono app's own `app.request` at `/mcp` — the same routes either way.
 *
 * A non-2xx answer becomes a `GimoClientError` (here `ApiError`) carrying GIMO's
 * `{error:{code,message}}`.
 */
import { GimoClient, GimoClientError } from "../../client/client.ts";
import type { FetchLike } from "../../client/http.ts";

export type { FetchLike as ApiFetch };
export { GimoClientError as ApiError };

export type GimoApi = Pick<
  GimoClient,
  | "createDraft"
  | "listTasks"
  | "createRun"
  | "getRun"
  | "listRuns"
  | "runLogs"
  | "getPlan"
  | "listApproved"
  | "getApproved"
  | "getProjectContext"
  | "status"
>;

/**
 * The MCP server's API: the typed client with the caller's token; `fetch` is the Hono app's own
 * `app.request` at `/mcp`, and none (node:http) for `gimo mcp`, whose calls may take a minute.
 */
export function createGimoApi(baseUrl: string, token: string, fetch?: FetchLike): GimoApi {
  return new GimoClient({ baseUrl, token, timeoutMs: 60_000, ...(fetch ? { fetch } : {}) });
}
