import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../src/core/roles.ts";
import { type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * Role-based access, walked over every operation of /openapi.json.
 *
 * The expected access of each route is written here by hand from SPEC §2/§3 — deliberately not
 * read from the document's `x-gimo-access` — so a route that declares the wrong level fails, and
 * so does a route added to (or dropped from) the API without its line here. When you add a route,
 * add its line to ROUTES with the roles SPEC gives it and a request that succeeds.
 *
 * Every operation is called without a token, with tokens that are not valid (unknown, another
 * scheme, revoked, expired), and with each role's token — the environment one and a minted one:
 *   public        → the success status whatever the token;
 *   no valid token → 401; a role not allowed → 403, and nothing is written to the event log;
 *   a role allowed → the route's success status (fresh fixtures are built for every call).
 */

const ALL: readonly Role[] = ["actions", "operator", "admin", "runner"];
/** SPEC §2: `actions` reads everything that is not secret; operators and admins read too. */
const READ: readonly Role[] = ["actions", "operator", "admin"];
/** SPEC §2: tasks, drafts, approvals, runs, chat. */
const OPERATOR: readonly Role[] = ["operator", "admin"];
/** SPEC §2: projects, plan, providers, tokens, credentials, integrations, panic, audit. */
const ADMIN: readonly Role[] = ["admin"];
/** SPEC §2/§6: the runner protocol is the runner role's (and admin may do everything). */
const RUNNER: readonly Role[] = ["runner", "admin"];

interface Req {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Fixtures {
  g: TestGimo;
  /** A fresh task with a draft (status `draft`, with a plan). */
  draft(): Promise<{ id: string; task_id: string }>;
  /** A fresh approved plan (no run). */
  approved(): Promise<string>;
  /** A fresh queued run. */
  queuedRun(): Promise<string>;
  /** A fresh cancelled run. */
  cancelledRun(): Promise<string>;
  /** A fresh, live minted token of `role`. */
  mint(role: Role, expiresAt?: string): Promise<{ id: string; token: string }>;
  /** A registered runner's id. */
  runner(): Promise<string>;
  /** The planner configuration pointing at the scripted model. */
  plannerConfig: unknown;
  /** A run claimed by a fresh runner: the fence every runner call carries. */
  claimed(): Promise<{ runId: string; runner_id: string; attempt: number }>;
}

interface RouteExpectation {
  /** Who may call it, by hand from SPEC; "public" needs no token. */
  allow: "public" | readonly Role[];
  /** The status an allowed call with the request below answers. */
  ok: number;
  /** Its content type, when not JSON. */
  type?: string;
  /** A valid request, built fresh for each call. */
  req(fx: Fixtures): Promise<Req> | Req;
  /** Undo a successful call's effect, so later calls see the server as before. */
  undo?(fx: Fixtures): Promise<void>;
}

const unique = () => randomBytes(4).toString("hex");

/** A new project nothing references, made by the admin. */
async function freshProject(g: TestGimo): Promise<string> {
  const res = await g.request("POST", "/ops/projects", {
    role: "admin",
    body: { name: `rbac-${unique()}`, repo_url: "https://example.com/rbac.git", base_branch: "main" },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** Keyed "METHOD /path" as the OpenAPI document spells the path. */
const ROUTES: Record<string, RouteExpectation> = {
  "GET /health": { allow: "public", ok: 200, req: () => ({ path: "/health" }) },
  "GET /ready": { allow: "public", ok: 200, req: () => ({ path: "/ready" }) },
  "GET /status": { allow: ALL, ok: 200, req: () => ({ path: "/status" }) },
  "GET /ops/whoami": { allow: ALL, ok: 200, req: () => ({ path: "/ops/whoami" }) },

  "GET /ops/panic": { allow: READ, ok: 200, req: () => ({ path: "/ops/panic" }) },
  "POST /ops/panic": {
    allow: ADMIN,
    ok: 200,
    req: () => ({ path: "/ops/panic", body: { on: true, reason: "rbac walk" } }),
    undo: async ({ g }) => {
      const off = await g.request("POST", "/ops/panic", { role: "admin", body: { on: false } });
      expect(off.status).toBe(200);
    },
  },

  "GET /ops/projects": { allow: READ, ok: 200, req: () => ({ path: "/ops/projects" }) },
  "POST /ops/projects": {
    allow: ADMIN,
    ok: 201,
    req: () => ({
      path: "/ops/projects",
      body: { name: `rbac-${unique()}`, repo_url: "https://example.com/rbac.git", base_branch: "main" },
    }),
  },
  "GET /ops/projects/{id}": {
    allow: READ,
    ok: 200,
    req: ({ g }) => ({ path: `/ops/projects/${g.projectId}` }),
  },
  "PATCH /ops/projects/{id}": {
    allow: ADMIN,
    ok: 200,
    req: ({ g }) => ({ path: `/ops/projects/${g.projectId}`, body: { max_concurrent_runs: 100 } }),
  },

  "POST /ops/projects/{id}/archive": {
    allow: ADMIN,
    ok: 200,
    req: async ({ g }) => ({ path: `/ops/projects/${await freshProject(g)}/archive` }),
  },
  "POST /ops/projects/{id}/unarchive": {
    allow: ADMIN,
    ok: 200,
    req: async ({ g }) => {
      const id = await freshProject(g);
      expect((await g.request("POST", `/ops/projects/${id}/archive`, { role: "admin" })).status).toBe(200);
      return { path: `/ops/projects/${id}/unarchive` };
    },
  },
  "DELETE /ops/projects/{id}": {
    allow: ADMIN,
    ok: 200,
    req: async ({ g }) => ({ path: `/ops/projects/${await freshProject(g)}` }),
  },
  "POST /ops/purge": {
    allow: ADMIN,
    ok: 200,
    req: () => ({ path: "/ops/purge", body: { dry_run: true } }),
  },

  "GET /ops/plan": { allow: READ, ok: 200, req: () => ({ path: "/ops/plan" }) },
  "GET /ops/context": { allow: READ, ok: 200, req: () => ({ path: "/ops/context" }) },
  "PUT /ops/plan": {
    allow: ADMIN,
    ok: 200,
    req: async ({ g }) => {
      const current = await g.request("GET", "/ops/plan", { role: "admin" });
      expect(current.status).toBe(200);
      return {
        path: "/ops/plan",
        headers: { "if-match": String(current.body.version) },
        body: { objective: "rbac walk" },
      };
    },
  },

  "GET /ops/tasks": { allow: READ, ok: 200, req: () => ({ path: "/ops/tasks" }) },
  "GET /ops/tasks/{id}": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/tasks/${(await fx.draft()).task_id}` }),
  },

  "GET /ops/drafts": { allow: READ, ok: 200, req: () => ({ path: "/ops/drafts" }) },
  "POST /ops/drafts": {
    allow: OPERATOR,
    ok: 201,
    req: () => ({ path: "/ops/drafts", body: { prompt: "validate stock", plan: samplePlan() } }),
  },
  "GET /ops/drafts/{id}": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/drafts/${(await fx.draft()).id}` }),
  },
  "PUT /ops/drafts/{id}": {
    allow: OPERATOR,
    ok: 200,
    req: async (fx) => ({ path: `/ops/drafts/${(await fx.draft()).id}`, body: { prompt: "edited" } }),
  },
  "POST /ops/drafts/{id}/approve": {
    allow: OPERATOR,
    ok: 201,
    req: async (fx) => ({ path: `/ops/drafts/${(await fx.draft()).id}/approve`, body: { auto_run: false } }),
  },
  "POST /ops/drafts/{id}/reject": {
    allow: OPERATOR,
    ok: 200,
    req: async (fx) => ({ path: `/ops/drafts/${(await fx.draft()).id}/reject`, body: { reason: "no" } }),
  },

  "GET /ops/approved": { allow: READ, ok: 200, req: () => ({ path: "/ops/approved" }) },
  "GET /ops/approved/{id}": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/approved/${await fx.approved()}` }),
  },

  "POST /ops/runs": {
    allow: OPERATOR,
    ok: 201,
    req: async (fx) => ({ path: "/ops/runs", body: { approved_id: await fx.approved() } }),
  },
  "GET /ops/runs": { allow: READ, ok: 200, req: () => ({ path: "/ops/runs" }) },
  "GET /ops/runs/{id}": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/runs/${await fx.queuedRun()}` }),
  },
  "POST /ops/runs/{id}/cancel": {
    allow: OPERATOR,
    ok: 200,
    req: async (fx) => ({ path: `/ops/runs/${await fx.queuedRun()}/cancel`, body: { reason: "rbac" } }),
  },
  "POST /ops/runs/{id}/requeue": {
    allow: OPERATOR,
    ok: 200,
    req: async (fx) => ({
      path: `/ops/runs/${await fx.cancelledRun()}/requeue`,
      body: { backoff_seconds: 3600 },
    }),
  },

  "GET /ops/runs/{id}/logs": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/runs/${await fx.queuedRun()}/logs?after=0` }),
  },
  "GET /ops/runs/{id}/diff": {
    allow: READ,
    // A queued run has no commit yet: an allowed reader gets 409 (the diff itself is test/web-serving.test.ts).
    ok: 409,
    req: async (fx) => ({ path: `/ops/runs/${await fx.queuedRun()}/diff` }),
  },
  "GET /ops/runs/{id}/events": {
    allow: READ,
    ok: 200,
    type: "text/event-stream",
    req: async (fx) => ({ path: `/ops/runs/${await fx.queuedRun()}/events` }),
  },
  "GET /ops/runners": { allow: READ, ok: 200, req: () => ({ path: "/ops/runners" }) },
  "GET /ops/runner/status": { allow: READ, ok: 200, req: () => ({ path: "/ops/runner/status" }) },
  "GET /ops/metrics": { allow: READ, ok: 200, req: () => ({ path: "/ops/metrics" }) },
  "GET /metrics": { allow: READ, ok: 200, type: "text/plain", req: () => ({ path: "/metrics" }) },

  "POST /ops/runners/register": {
    allow: RUNNER,
    ok: 201,
    req: () => ({ path: "/ops/runners/register", body: { name: `rbac-${unique()}`, labels: ["x"] } }),
  },
  "POST /ops/runners/{id}/heartbeat": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => ({ path: `/ops/runners/${await fx.runner()}/heartbeat`, body: {} }),
  },
  "POST /ops/runs/claim": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => {
      await fx.queuedRun();
      return { path: "/ops/runs/claim", body: { runner_id: await fx.runner() } };
    },
  },
  "POST /ops/runs/{id}/lease": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => {
      const { runId, ...fence } = await fx.claimed();
      return { path: `/ops/runs/${runId}/lease`, body: fence };
    },
  },
  "POST /ops/runs/{id}/logs": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => {
      const { runId, ...fence } = await fx.claimed();
      return {
        path: `/ops/runs/${runId}/logs`,
        body: { ...fence, lines: [{ level: "info", msg: "hello" }] },
      };
    },
  },
  "POST /ops/runs/{id}/steps": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => {
      const { runId, ...fence } = await fx.claimed();
      return {
        path: `/ops/runs/${runId}/steps`,
        body: { ...fence, steps: [{ id: "s1", status: "running" }] },
      };
    },
  },
  "POST /ops/runs/{id}/complete": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => {
      const { runId, ...fence } = await fx.claimed();
      return { path: `/ops/runs/${runId}/complete`, body: { ...fence, status: "succeeded", result: {} } };
    },
  },

  "POST /ops/tasks": {
    allow: OPERATOR,
    ok: 201,
    req: () => ({ path: "/ops/tasks", body: { prompt: "rbac task" } }),
  },
  "POST /ops/generate": {
    allow: OPERATOR,
    ok: 201,
    req: () => ({ path: "/ops/generate", body: { prompt: "rbac generate" } }),
  },
  "POST /ops/drafts/{id}/revise": {
    allow: OPERATOR,
    ok: 201,
    req: async (fx) => ({
      path: `/ops/drafts/${(await fx.draft()).id}/revise`,
      body: { feedback: "smaller" },
    }),
  },
  "POST /ops/plan/propose": {
    allow: OPERATOR,
    ok: 201,
    req: () => ({ path: "/ops/plan/propose", body: { count: 1 } }),
  },
  "GET /ops/provider": { allow: READ, ok: 200, req: () => ({ path: "/ops/provider" }) },
  "PUT /ops/provider": {
    allow: ADMIN,
    ok: 200,
    req: (fx) => ({ path: "/ops/provider", body: { planner: fx.plannerConfig } }),
  },
  "GET /ops/provider/health": { allow: READ, ok: 200, req: () => ({ path: "/ops/provider/health" }) },
  "GET /ops/requests": { allow: ADMIN, ok: 200, req: () => ({ path: "/ops/requests" }) },
  "PUT /ops/requests/{id}": {
    allow: ADMIN,
    ok: 200,
    req: async ({ g }) => {
      const list = await g.request("GET", "/ops/requests", { role: "admin" });
      const id = list.body.items.find((r: { name: string }) => r.name === "RBAC_SECRET").id;
      return { path: `/ops/requests/${id}`, body: { value: `secret-${unique()}` } };
    },
  },

  "GET /ops/tokens": { allow: ADMIN, ok: 200, req: () => ({ path: "/ops/tokens" }) },
  "POST /ops/tokens": {
    allow: ADMIN,
    ok: 201,
    req: () => ({ path: "/ops/tokens", body: { name: `rbac-${unique()}`, role: "actions" } }),
  },
  "DELETE /ops/tokens/{id}": {
    allow: ADMIN,
    ok: 200,
    req: async (fx) => ({ path: `/ops/tokens/${(await fx.mint("actions")).id}` }),
  },

  "GET /ops/audit": { allow: ADMIN, ok: 200, req: () => ({ path: "/ops/audit?limit=5" }) },
  "GET /ops/audit/verify": { allow: ADMIN, ok: 200, req: () => ({ path: "/ops/audit/verify" }) },
  "GET /ops/audit/head": { allow: ADMIN, ok: 200, req: () => ({ path: "/ops/audit/head" }) },
  "GET /ops/events": {
    allow: READ,
    ok: 200,
    type: "text/event-stream",
    req: () => ({ path: "/ops/events" }),
  },

  // SPEC §7.4: chats are read by every reader and written by operators.
  "GET /ops/chats": { allow: READ, ok: 200, req: () => ({ path: "/ops/chats" }) },
  "POST /ops/chats": {
    allow: OPERATOR,
    ok: 201,
    req: () => ({ path: "/ops/chats", body: { title: "rbac" } }),
  },
  "GET /ops/chats/{id}": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/chats/${await chat(fx)}` }),
  },
  "PATCH /ops/chats/{id}": {
    allow: OPERATOR,
    ok: 200,
    req: async (fx) => ({ path: `/ops/chats/${await chat(fx)}`, body: { title: "renamed" } }),
  },
  "GET /ops/chats/{id}/messages": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/chats/${await chat(fx)}/messages` }),
  },
  "POST /ops/chats/{id}/messages": {
    allow: OPERATOR,
    ok: 201,
    req: async (fx) => ({ path: `/ops/chats/${await chat(fx)}/messages`, body: { text: "hello" } }),
  },
  "POST /ops/chats/{id}/confirm": {
    allow: OPERATOR,
    ok: 200,
    req: async (fx) => ({ path: `/ops/chats/${await chat(fx)}/confirm`, body: {} }),
  },
  "POST /ops/chats/{id}/cancel": {
    allow: OPERATOR,
    ok: 200,
    req: async (fx) => ({ path: `/ops/chats/${await chat(fx)}/cancel`, body: {} }),
  },
  "GET /ops/chats/{id}/events": {
    allow: READ,
    ok: 200,
    type: "text/event-stream",
    req: async (fx) => ({ path: `/ops/chats/${await chat(fx)}/events` }),
  },

  // SPEC §2/§7.6: integrations are read by every reader and managed by admins; runs call them
  // through the runner protocol.
  "GET /ops/integrations": { allow: READ, ok: 200, req: () => ({ path: "/ops/integrations" }) },
  "POST /ops/integrations": {
    allow: ADMIN,
    ok: 201,
    req: (fx) => ({ path: "/ops/integrations", body: integrationBody(fx) }),
  },
  "GET /ops/integrations/{id}": {
    allow: READ,
    ok: 200,
    req: async (fx) => ({ path: `/ops/integrations/${(await integration(fx)).id}` }),
  },
  "PATCH /ops/integrations/{id}": {
    allow: ADMIN,
    ok: 200,
    req: async (fx) => ({
      path: `/ops/integrations/${(await integration(fx)).id}`,
      body: { description: "x" },
    }),
  },
  "DELETE /ops/integrations/{id}": {
    allow: ADMIN,
    ok: 200,
    req: async (fx) => ({ path: `/ops/integrations/${(await integration(fx)).id}` }),
  },
  "POST /ops/integrations/{id}/discover": {
    allow: ADMIN,
    ok: 200,
    req: async (fx) => ({ path: `/ops/integrations/${(await integration(fx)).id}/discover` }),
  },
  "PUT /ops/integrations/{id}/allowlist": {
    allow: ADMIN,
    ok: 200,
    req: async (fx) => ({
      path: `/ops/integrations/${(await integration(fx)).id}/allowlist`,
      body: { operations: [{ operation: "getHealth" }] },
    }),
  },
  "POST /ops/integrations/{id}/test": {
    allow: ADMIN,
    ok: 200,
    req: async (fx) => ({
      path: `/ops/integrations/${(await integration(fx)).id}/test`,
      body: { operation: "getHealth" },
    }),
  },
  "POST /ops/runs/{id}/integrations": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => {
      const { runId, ...fence } = await fx.claimed();
      return { path: `/ops/runs/${runId}/integrations`, body: fence };
    },
  },
  "POST /ops/runs/{id}/integrations/{name}/{operation}": {
    allow: RUNNER,
    ok: 200,
    req: async (fx) => {
      const { name } = await integration(fx);
      const { runId, ...fence } = await fx.claimed();
      return { path: `/ops/runs/${runId}/integrations/${name}/getHealth`, body: { ...fence, arguments: {} } };
    },
  },
};

/** A fresh chat on the default project. */
async function chat(fx: Fixtures): Promise<string> {
  const res = await fx.g.request("POST", "/ops/chats", { role: "admin", body: {} });
  return res.body.id as string;
}

/** An OpenAPI integration of GIMO itself (its own /openapi.json on loopback). */
function integrationBody(fx: Fixtures) {
  return { name: `rbac-${unique()}`, kind: "openapi", base_url: fx.g.url, allow_private: true };
}

/** A fresh integration: its id and name. */
async function integration(fx: Fixtures): Promise<{ id: string; name: string }> {
  const res = await fx.g.request("POST", "/ops/integrations", { role: "admin", body: integrationBody(fx) });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

interface Caller {
  name: string;
  /** The role the token carries, or null when it must be refused with 401. */
  role: Role | null;
  authorization?: string;
}

interface Sent {
  status: number;
  contentType: string;
  body: unknown;
}

function errorCode(body: unknown): unknown {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  return error?.code;
}

/** One request over real HTTP; a Server-Sent Events answer is checked by its head, then dropped. */
async function send(g: TestGimo, method: string, req: Req, authorization: string | undefined): Promise<Sent> {
  const headers: Record<string, string> = { ...req.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  if (req.body !== undefined) headers["content-type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const res = await fetch(`${g.url}${req.path}`, {
      method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: abort.signal,
    });
    const contentType = res.headers.get("content-type") ?? "";
    if (contentType.startsWith("text/event-stream")) {
      abort.abort();
      return { status: res.status, contentType, body: undefined };
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, contentType, body };
  } finally {
    clearTimeout(timer);
  }
}

describe.each(storageKinds())("role-based access on %s", (kind) => {
  let g: TestGimo;
  let fx: Fixtures;
  let model: ScriptedModel;
  let doc: { paths: Record<string, Record<string, unknown>> };
  const callers: Caller[] = [];

  beforeAll(async () => {
    // A day-long lease: the claimed fixture runs are never ended, and with the default 30 s lease
    // the sweeper would requeue them mid-walk, writing events between a refused call's before and
    // after counts. With no lease lapsing, nothing in the background writes, and the count is exact.
    g = await startGimo(kind, { leaseSeconds: 86_400 }, { env: { RBAC_SECRET: "rbac-secret-value" } });
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await g.request(method, path, { role: "admin", body });
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
      return res.body;
    };
    fx = {
      g,
      draft: () => ok("POST", "/ops/drafts", { prompt: "rbac fixture", plan: samplePlan() }),
      approved: async () => {
        const draft = await fx.draft();
        return (await ok("POST", `/ops/drafts/${draft.id}/approve`, { auto_run: false })).approved.id;
      },
      queuedRun: async () => (await ok("POST", "/ops/runs", { approved_id: await fx.approved() })).id,
      cancelledRun: async () => {
        const id = await fx.queuedRun();
        await ok("POST", `/ops/runs/${id}/cancel`, {});
        return id;
      },
      mint: (role, expiresAt) =>
        ok("POST", "/ops/tokens", {
          name: `rbac-${role}-${unique()}`,
          role,
          ...(expiresAt ? { expires_at: expiresAt } : {}),
        }),
      plannerConfig: undefined,
      runner: async () => "",
      claimed: async () => ({ runId: "", runner_id: "", attempt: 0 }),
    };

    // A scripted planner that always answers: a plan, or proposals when asked for them.
    model = await startScriptedModel({
      respond: (req) =>
        JSON.stringify(req.body.messages).includes("proposals")
          ? { json: { proposals: [{ prompt: "proposed", plan: samplePlan("Proposed") }] } }
          : { json: samplePlan("Planned") },
    });
    fx.plannerConfig = {
      type: "openai_compat",
      base_url: model.url,
      model: "scripted",
      api_key: "${RBAC_SECRET}",
    };
    await ok("PUT", "/ops/provider", { planner: fx.plannerConfig });
    // Claimed fixture runs stay running: let the project run many at once.
    await ok("PATCH", `/ops/projects/${g.projectId}`, { max_concurrent_runs: 100 });
    const asRunner = async (path: string, body: unknown) => {
      const res = await g.request("POST", path, { role: "runner", body });
      expect(res.status, `POST ${path}: ${res.text}`).toBeLessThan(300);
      return res.body;
    };
    fx.runner = async () =>
      (await asRunner("/ops/runners/register", { name: `fixture-${unique()}` })).runner_id;
    fx.claimed = async () => {
      const approved = await fx.approved();
      await ok("POST", "/ops/runs", { approved_id: approved, priority: 1000 });
      const runner_id = await fx.runner();
      const claimed = await asRunner("/ops/runs/claim", { runner_id });
      return { runId: claimed.run.id, runner_id, attempt: claimed.run.attempt };
    };

    const docRes = await g.request("GET", "/openapi.json", { role: null });
    expect(docRes.status).toBe(200);
    doc = docRes.body;

    const revoked = await fx.mint("admin");
    await ok("DELETE", `/ops/tokens/${revoked.id}`);
    const expired = await fx.mint("admin", new Date(Date.now() - 60_000).toISOString());
    callers.push(
      { name: "no token", role: null },
      {
        name: "an unknown token",
        role: null,
        authorization: `Bearer gimo_${randomBytes(32).toString("hex")}`,
      },
      { name: "another scheme", role: null, authorization: `Basic ${g.tokens.admin}` },
      { name: "a revoked admin token", role: null, authorization: `Bearer ${revoked.token}` },
      { name: "an expired admin token", role: null, authorization: `Bearer ${expired.token}` },
    );
    for (const role of ALL) {
      callers.push({ name: `env ${role}`, role, authorization: `Bearer ${g.tokens[role]}` });
      callers.push({ name: `minted ${role}`, role, authorization: `Bearer ${(await fx.mint(role)).token}` });
    }
  });
  afterAll(async () => {
    await g?.close();
    await model?.close();
  });

  it("the table above names exactly the operations /openapi.json publishes", () => {
    const published: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        if (item[method]) published.push(`${method.toUpperCase()} ${path}`);
      }
    }
    const expected = Object.keys(ROUTES);
    expect(
      published.filter((k) => !(k in ROUTES)).sort(),
      "operations without an access line in ROUTES",
    ).toEqual([]);
    expect(
      expected.filter((k) => !published.includes(k)).sort(),
      "ROUTES lines for operations the document lacks",
    ).toEqual([]);
  });

  it("the OpenAPI documents are public", async () => {
    for (const path of ["/openapi.json", "/openapi.actions.json"]) {
      expect((await g.request("GET", path, { role: null })).status).toBe(200);
      expect((await g.request("GET", path, { token: "not-a-token" })).status).toBe(200);
    }
  });

  it.each(Object.keys(ROUTES))("%s answers each caller as SPEC §2/§3 says", async (key) => {
    const route = ROUTES[key] as RouteExpectation;
    const method = key.slice(0, key.indexOf(" "));
    for (const caller of callers) {
      const req = await route.req(fx);
      const before = await g.gimo.services.audit.headSeq();
      const res = await send(g, method, req, caller.authorization);
      const after = await g.gimo.services.audit.headSeq();
      const allowed = route.allow === "public" || (caller.role !== null && route.allow.includes(caller.role));
      const expected = allowed ? route.ok : caller.role === null ? 401 : 403;
      const detail = `${key} by ${caller.name}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`;
      expect(res.status, detail).toBe(expected);
      expect(res.contentType, detail).toContain((allowed && route.type) || "application/json");
      if (!allowed) {
        expect(errorCode(res.body), detail).toBe(expected === 401 ? "unauthorized" : "forbidden");
        expect(after, `${detail}: a refused call wrote to the event log`).toBe(before);
      }
      if (allowed && route.undo) await route.undo(fx);
    }
  });

  it("leaves panic mode off after the walk", async () => {
    const panic = await g.request("GET", "/ops/panic", { role: "actions" });
    expect(panic.body.on).toBe(false);
  });
});
