import type { z } from "@hono/zod-openapi";
import type { ApprovedQuery } from "../contract/approved.ts";
import type { ApproveBody, DraftCreate, DraftEdit, DraftQuery, RejectBody } from "../contract/draft.ts";
import { runTerminalEvents } from "../contract/events.ts";
import type { IntegrationCallBody } from "../contract/integration.ts";
import type { GenerateBody, ProposeBody, ReviseBody, TaskCreate } from "../contract/planning.ts";
import type { ProjectCreate, ProjectPatch } from "../contract/project.ts";
import type { CancelBody, RequeueBody, RunCreate, RunQuery } from "../contract/run.ts";
import type {
  ClaimBody,
  CompleteBody,
  HeartbeatBody,
  LeaseBody,
  LogsBody,
  RunnerRegister,
  StepsBody,
} from "../contract/runner.ts";
import type { PanicBody, PurgeBody } from "../contract/system.ts";
import type { TaskQuery } from "../contract/task.ts";
import type { TokenCreate } from "../contract/token.ts";
import { type FetchLike, GimoClientError, type RequestOptions, Transport } from "./http.ts";
import { type SseMessage, type SubscribeOptions, subscribe } from "./sse.ts";

/**
 * The typed GIMO client: one method per route an operator uses, its argument and answer typed by
 * the zod contract (`z.input` of the request schema, `z.infer` of the response schema). With
 * `validate` (the default) every answer is parsed by its contract schema, so a caller never holds
 * a shape the contract does not promise; the schemas load on the first call that checks one.
 * Errors are `GimoClientError` (status, code, message, details). The CLI, the remote runner, the
 * MCP bridge and the web UI use it; it imports the contract only.
 */
export { GimoClientError } from "./http.ts";
export type { SseMessage } from "./sse.ts";

type Schemas = typeof import("./schemas.ts");
type Name = keyof Schemas;
export type Answer<K extends Name> = z.infer<Schemas[K]>;
type In<S extends z.ZodType> = z.input<S>;
type Query<S extends z.ZodType> = Partial<Omit<In<S>, "limit">> & { limit?: number };
type Fence = In<typeof LeaseBody>;

export interface GimoClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
  /** A fetch to use instead of `node:http` (the MCP server calls the app in-process with one). */
  fetch?: FetchLike;
  /** Parse every answer with its contract schema (default true). */
  validate?: boolean;
}

const terminalRunEvents = new Set<string>(runTerminalEvents);

export class GimoClient {
  readonly #t: Transport;
  readonly #validate: boolean;
  #schemas: Promise<Schemas> | undefined;

  constructor(options: GimoClientOptions) {
    this.#t = new Transport(options);
    this.#validate = options.validate ?? true;
  }

  get baseUrl(): string {
    return this.#t.baseUrl;
  }

  // ── system ────────────────────────────────────────────────────────────────
  health = () => this.#call("Health", "GET", "/health");
  status = () => this.#call("Status", "GET", "/status");
  whoami = () => this.#call("Whoami", "GET", "/ops/whoami");
  panic = () => this.#call("Panic", "GET", "/ops/panic");
  setPanic = (body: In<typeof PanicBody>) => this.#call("Panic", "POST", "/ops/panic", { body });
  /** Retention: finished runs older than `older_than_days` (default OPS_RUN_TTL) and their logs. */
  purge = (body: In<typeof PurgeBody>) => this.#call("PurgeResult", "POST", "/ops/purge", { body });
  metrics = () => this.#call("Metrics", "GET", "/ops/metrics");
  providers = () => this.#call("ProvidersView", "GET", "/ops/provider");
  providerHealth = () => this.#call("ProvidersHealth", "GET", "/ops/provider/health");

  // ── projects ──────────────────────────────────────────────────────────────
  listProjects = (query: { limit?: number; cursor?: string } = {}) =>
    this.#call("ProjectPage", "GET", "/ops/projects", { query });
  createProject = (body: In<typeof ProjectCreate>) =>
    this.#call("Project", "POST", "/ops/projects", { body });
  getProject = (id: string) => this.#call("Project", "GET", `/ops/projects/${seg(id)}`);
  patchProject = (id: string, body: In<typeof ProjectPatch>) =>
    this.#call("Project", "PATCH", `/ops/projects/${seg(id)}`, { body });
  archiveProject = (id: string) => this.#call("Project", "POST", `/ops/projects/${seg(id)}/archive`);
  unarchiveProject = (id: string) => this.#call("Project", "POST", `/ops/projects/${seg(id)}/unarchive`);
  deleteProject = (id: string) => this.#call("ProjectDeleted", "DELETE", `/ops/projects/${seg(id)}`);

  // ── tasks, drafts, approvals ──────────────────────────────────────────────
  /** A task and its first draft; answers while the planner still works (status `generating`). */
  createTask = (body: In<typeof TaskCreate>) => this.#call("Draft", "POST", "/ops/tasks", { body });
  generate = (body: In<typeof GenerateBody>) => this.#call("Draft", "POST", "/ops/generate", { body });
  propose = (body: In<typeof ProposeBody>) =>
    this.#call("ProposeResult", "POST", "/ops/plan/propose", { body });
  listTasks = (query: Query<typeof TaskQuery> = {}) => this.#call("TaskPage", "GET", "/ops/tasks", { query });
  getTask = (id: string) => this.#call("TaskDetail", "GET", `/ops/tasks/${seg(id)}`);
  listDrafts = (query: Query<typeof DraftQuery> = {}) =>
    this.#call("DraftPage", "GET", "/ops/drafts", { query });
  getDraft = (id: string) => this.#call("Draft", "GET", `/ops/drafts/${seg(id)}`);
  createDraft = (body: In<typeof DraftCreate>) => this.#call("Draft", "POST", "/ops/drafts", { body });
  editDraft = (id: string, body: In<typeof DraftEdit>) =>
    this.#call("Draft", "PUT", `/ops/drafts/${seg(id)}`, { body });
  reviseDraft = (id: string, body: In<typeof ReviseBody>) =>
    this.#call("Draft", "POST", `/ops/drafts/${seg(id)}/revise`, { body });
  approveDraft = (id: string, body: In<typeof ApproveBody> = {}) =>
    this.#call("ApproveResult", "POST", `/ops/drafts/${seg(id)}/approve`, { body });
  rejectDraft = (id: string, body: In<typeof RejectBody> = {}) =>
    this.#call("Draft", "POST", `/ops/drafts/${seg(id)}/reject`, { body });
  listApproved = (query: Query<typeof ApprovedQuery> = {}) =>
    this.#call("ApprovedPage", "GET", "/ops/approved", { query });
  getApproved = (id: string) => this.#call("Approved", "GET", `/ops/approved/${seg(id)}`);
  getPlan = (project?: string) => this.#call("PlanDoc", "GET", "/ops/plan", { query: { project } });
  getProjectContext = (project?: string) =>
    this.#call("ProjectContext", "GET", "/ops/context", { query: { project } });

  /** Polls a draft until the planner has finished with it (status other than `generating`). */
  async waitForDraft(id: string, opts: { signal?: AbortSignal; intervalMs?: number } = {}) {
    for (;;) {
      const draft = await this.getDraft(id);
      if (draft.status !== "generating" || opts.signal?.aborted) return draft;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 300));
    }
  }

  // ── runs ──────────────────────────────────────────────────────────────────
  createRun = (body: In<typeof RunCreate>) => this.#call("Run", "POST", "/ops/runs", { body });
  listRuns = (query: Query<typeof RunQuery> = {}) => this.#call("RunPage", "GET", "/ops/runs", { query });
  getRun = (id: string) => this.#call("Run", "GET", `/ops/runs/${seg(id)}`);
  cancelRun = (id: string, body: In<typeof CancelBody> = {}) =>
    this.#call("Run", "POST", `/ops/runs/${seg(id)}/cancel`, { body });
  requeueRun = (id: string, body: In<typeof RequeueBody> = {}) =>
    this.#call("Run", "POST", `/ops/runs/${seg(id)}/requeue`, { body });
  runLogs = (id: string, query: { after?: number; limit?: number; cursor?: string } = {}) =>
    this.#call("RunLogPage", "GET", `/ops/runs/${seg(id)}/logs`, { query });
  listRunners = () => this.#call("RunnerList", "GET", "/ops/runners");
  runnerStatus = () => this.#call("RunnerStatus", "GET", "/ops/runner/status");

  // ── tokens and audit ──────────────────────────────────────────────────────
  createToken = (body: In<typeof TokenCreate>) => this.#call("TokenCreated", "POST", "/ops/tokens", { body });
  listTokens = (query: { limit?: number; cursor?: string } = {}) =>
    this.#call("TokenPage", "GET", "/ops/tokens", { query });
  revokeToken = (id: string) => this.#call("TokenInfo", "DELETE", `/ops/tokens/${seg(id)}`);
  auditEvents = (query: { subject?: string; type?: string; limit?: number; cursor?: string } = {}) =>
    this.#call("EventPage", "GET", "/ops/audit", { query });
  auditHead = () => this.#call("AuditHead", "GET", "/ops/audit/head");
  verifyAudit = (head?: string) => this.#call("AuditVerify", "GET", "/ops/audit/verify", { query: { head } });

  // ── the runner protocol (SPEC §6) ─────────────────────────────────────────
  registerRunner = (body: In<typeof RunnerRegister>) =>
    this.#call("RunnerRegistered", "POST", "/ops/runners/register", { body });
  heartbeat = async (runnerId: string, body: In<typeof HeartbeatBody>) => {
    await this.#t.request("POST", `/ops/runners/${seg(runnerId)}/heartbeat`, { body });
  };
  /** The claimed run, or undefined when nothing was claimable within `wait_seconds`. */
  claimRun = async (body: In<typeof ClaimBody>, signal?: AbortSignal) => {
    const res = await this.#t.request("POST", "/ops/runs/claim", {
      body,
      signal,
      extraTimeoutMs: (body.wait_seconds ?? 0) * 1000,
    });
    return res.status === 200 ? this.#check("ClaimedRun", res.body) : undefined;
  };
  extendLease = (runId: string, body: Fence) =>
    this.#call("LeaseResult", "POST", `/ops/runs/${seg(runId)}/lease`, { body });
  appendLogs = async (runId: string, body: In<typeof LogsBody>) => {
    await this.#t.request("POST", `/ops/runs/${seg(runId)}/logs`, { body });
  };
  updateSteps = async (runId: string, body: In<typeof StepsBody>) => {
    await this.#t.request("POST", `/ops/runs/${seg(runId)}/steps`, { body });
  };
  completeRun = (runId: string, body: In<typeof CompleteBody>) =>
    this.#call("CompleteResult", "POST", `/ops/runs/${seg(runId)}/complete`, { body });
  /** The integration operations allow-listed for the run's project, as tools. */
  runIntegrationTools = (runId: string, body: Fence) =>
    this.#call("RunIntegrationTools", "POST", `/ops/runs/${seg(runId)}/integrations`, { body });
  /** One call through the server's integration gateway (it may take up to the integration's timeout). */
  callRunIntegration = (
    runId: string,
    name: string,
    operation: string,
    body: In<typeof IntegrationCallBody>,
    signal?: AbortSignal,
  ) =>
    this.#call("CallOutcome", "POST", `/ops/runs/${seg(runId)}/integrations/${seg(name)}/${seg(operation)}`, {
      body,
      signal,
      extraTimeoutMs: 300_000,
    });

  // ── event streams ─────────────────────────────────────────────────────────
  /** The event log as it grows (`GET /ops/events`), resuming after `after` and after every drop. */
  events(opts: SubscribeOptions = {}): AsyncGenerator<SseMessage, void, undefined> {
    const url = this.#t.url("/ops/events");
    return subscribe(this.#fetch(), url, this.#t.token, opts);
  }

  /**
   * One run's events — state changes, steps, and its log lines inside `run.logs` events — from its
   * start (or after `after`), until its terminal event (`run.succeeded`, `run.failed`,
   * `run.cancelled`).
   */
  runEvents(runId: string, opts: Omit<SubscribeOptions, "until"> = {}) {
    const url = this.#t.url(`/ops/runs/${seg(runId)}/events`);
    return subscribe(this.#fetch(), url, this.#t.token, {
      ...opts,
      after: opts.after ?? 0,
      until: (m) => terminalRunEvents.has(m.event),
    });
  }

  #fetch(): FetchLike {
    return this.#t.fetch ?? ((input, init) => fetch(input, init));
  }

  async #call<K extends Name>(name: K, method: string, path: string, opts: RequestOptions = {}) {
    const res = await this.#t.request(method, path, opts);
    return this.#check(name, res.body);
  }

  async #check<K extends Name>(name: K, body: unknown): Promise<Answer<K>> {
    if (!this.#validate) return body as Answer<K>;
    this.#schemas ??= import("./schemas.ts");
    const schema = (await this.#schemas)[name] as unknown as z.ZodType<Answer<K>>;
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GimoClientError(
        502,
        "invalid_response",
        `the server's answer is not a ${String(name)}: ${issue?.path.join(".") || "(root)"} ${issue?.message ?? ""}`.trim(),
      );
    }
    return parsed.data;
  }
}

/** A path segment: ids are checked by the server; this only keeps them one segment. */
function seg(id: string): string {
  return encodeURIComponent(id);
}
