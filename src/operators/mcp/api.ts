import type { z } from "@hono/zod-openapi";
import type { Approved, ApprovedPage } from "../../contract/approved.ts";
import type { Draft, DraftCreate } from "../../contract/draft.ts";
import type { PlanDoc } from "../../contract/plan-doc.ts";
import type { ProjectContext } from "../../contract/project-context.ts";
import type { Run, RunCreate, RunPage } from "../../contract/run.ts";
import type { RunLogPage } from "../../contract/runner.ts";
import type { TaskPage, TaskStatus } from "../../contract/task.ts";

/**
 * Every REST call the MCP server makes, in one place. MCP adds no rule of its own: each tool,
 * resource and prompt is a call to the REST API with the caller's bearer token, so roles, panic
 * mode, validation and the approval gate hold exactly as they do over HTTP. The `fetch` is the
 * network in stdio mode (`gimo mcp` → a GIMO server) and the Hono app's own `app.request` at
 * `/mcp` — the same routes either way.
 *
 * A non-2xx answer becomes an `ApiError` carrying GIMO's `{error:{code,message}}`.
 */
export type ApiFetch = (path: string, init: RequestInit) => Promise<Response>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

type Query = Record<string, string | number | undefined>;

export interface GimoApi {
  createDraft(body: DraftCreate): Promise<Draft>;
  listTasks(query: {
    status?: z.infer<typeof TaskStatus>;
    project?: string;
    limit?: number;
  }): Promise<z.infer<typeof TaskPage>>;
  createRun(body: RunCreate): Promise<Run>;
  getRun(id: string): Promise<Run>;
  listRuns(query: { project?: string; limit?: number }): Promise<z.infer<typeof RunPage>>;
  getRunLogs(id: string, query: { after?: number; limit?: number }): Promise<z.infer<typeof RunLogPage>>;
  getPlan(project?: string): Promise<PlanDoc>;
  listApproved(query: { project?: string; limit?: number }): Promise<z.infer<typeof ApprovedPage>>;
  getApproved(id: string): Promise<Approved>;
  getProjectContext(project?: string): Promise<z.infer<typeof ProjectContext>>;
}

export function createGimoApi(fetch: ApiFetch, token: string): GimoApi {
  async function call<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.size > 0 ? `?${params}` : "";
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${path}${qs}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? "http_error", err?.message ?? `HTTP ${res.status}`);
    }
    return parsed as T;
  }
  const id = (value: string) => encodeURIComponent(value);
  return {
    createDraft: (body) => call("POST", "/ops/drafts", { body }),
    listTasks: (query) => call("GET", "/ops/tasks", { query }),
    createRun: (body) => call("POST", "/ops/runs", { body }),
    getRun: (runId) => call("GET", `/ops/runs/${id(runId)}`),
    listRuns: (query) => call("GET", "/ops/runs", { query }),
    getRunLogs: (runId, query) => call("GET", `/ops/runs/${id(runId)}/logs`, { query }),
    getPlan: (project) => call("GET", "/ops/plan", { query: { project } }),
    listApproved: (query) => call("GET", "/ops/approved", { query }),
    getApproved: (approvedId) => call("GET", `/ops/approved/${id(approvedId)}`),
    getProjectContext: (project) => call("GET", "/ops/context", { query: { project } }),
  };
}

/** The network `fetch` of `gimo mcp`: paths resolved against the server's base URL. */
export function networkFetch(baseUrl: string): ApiFetch {
  const base = baseUrl.replace(/\/+$/, "");
  return (path, init) =>
    fetch(`${base}${path}`, { ...init, signal: init.signal ?? AbortSignal.timeout(60_000) });
}
