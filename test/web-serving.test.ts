import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHash } from "../src/core/content-hash.ts";
import type { HttpEnv } from "../src/operators/http/env.ts";
import { contentSecurityPolicy, serveWebUi } from "../src/operators/http/web-ui.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * The web UI's serving and the API it needs beyond the rest: `GET /ops/whoami` (the UI hides what
 * a role may not do) and `GET /ops/runs/{id}/diff` (the run page's diff, from the run's commits in
 * the project's repository: size-capped, read roles only, runner-reported commits never taken as
 * git options).
 */
describe("the web UI's files", () => {
  let dist: string;
  const app = new Hono<HttpEnv>();
  beforeAll(() => {
    dist = mkdtempSync(join(tmpdir(), "gimo-dist-"));
    mkdirSync(join(dist, "assets"));
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>GIMO</title>");
    writeFileSync(join(dist, "assets", "index-abc123.js"), "console.log(1)");
    writeFileSync(join(dist, "favicon.svg"), "<svg/>");
    writeFileSync(join(tmpdir(), "outside.txt"), "secret");
    app.notFound((c) => serveWebUi(c, dist) ?? c.json({ error: { code: "not_found" } }, 404));
  });
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it("serves index.html at / and for client routes, never cached, under a strict CSP", async () => {
    for (const path of ["/", "/tasks/t_01JD0000000000000000000000", "/runs/x/y"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toBe(contentSecurityPolicy);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(await res.text()).toContain("<title>GIMO</title>");
    }
  });

  it("caches hashed assets for a year, and a missing asset is a 404, not the app", async () => {
    const js = await app.request("/assets/index-abc123.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const icon = await app.request("/favicon.svg");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
    expect((await app.request("/assets/gone-123.js")).status).toBe(404);
    expect((await app.request("/robots.txt")).status).toBe(404);
  });

  it("never serves a file outside its directory, nor API paths, nor other methods", async () => {
    for (const path of ["/../outside.txt", "/assets/../../outside.txt", "/%2e%2e/outside.txt"]) {
      const res = await app.request(path);
      expect(await res.text(), path).not.toContain("secret");
    }
    for (const path of ["/ops/nope", "/ops", "/status/x", "/openapi.yaml", "/metrics/x", "/mcp"]) {
      expect((await app.request(path)).status, path).toBe(404);
    }
    expect((await app.request("/", { method: "POST" })).status).toBe(404);
  });

  it("answers the API's 404 for a path that is none of the UI's pages", async () => {
    for (const path of ["/etc/passwd", "/nope", "/wp-admin/setup", "/taskss"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/^application\/json/);
    }
    for (const path of ["/sign-in", "/runners", "/audit", "/settings", "/setup", "/tasks/new", "/chats/c_1"])
      expect((await app.request(path)).status, path).toBe(200);
  });
});

describe.each(storageKinds())("the UI's API on %s", (kind) => {
  let g: TestGimo;
  let runnerId: string;
  beforeAll(async () => {
    g = await startGimo(kind);
    runnerId = (await g.request("POST", "/ops/runners/register", { role: "runner", body: { name: "r" } }))
      .body.runner_id;
  });
  afterAll(async () => {
    await g?.close();
  });

  it("GET /ops/whoami names the caller's role and identity; 401 without a token", async () => {
    for (const role of ["admin", "operator", "actions"] as const) {
      const res = await g.request("GET", "/ops/whoami", { role });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ actor: `env:${role}`, role, token_id: null });
    }
    expect((await g.request("GET", "/ops/whoami", { role: null })).status).toBe(401);
    const minted = await g.request("POST", "/ops/tokens", { body: { name: "ui-reader", role: "actions" } });
    const res = await g.request("GET", "/ops/whoami", { token: minted.body.token });
    expect(res.body).toEqual({ actor: "ui-reader", role: "actions", token_id: minted.body.id });
  });

  it("approves only the plan the approver reviewed when given its content_hash", async () => {
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "p", plan: samplePlan("Reviewed") },
    });
    const reviewed = contentHash(draft.body.plan);
    const edited = { ...draft.body.plan, title: "Changed after review" };
    expect((await g.request("PUT", `/ops/drafts/${draft.body.id}`, { body: { plan: edited } })).status).toBe(
      200,
    );
    const stale = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      role: "operator",
      body: { auto_run: false, content_hash: reviewed },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: "conflict" });
    expect(stale.body.error.message).toMatch(/changed since it was reviewed/);
    const bad = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      role: "operator",
      body: { content_hash: "md5:x" },
    });
    expect(bad.status).toBe(400);
    const current = (await g.request("GET", `/ops/drafts/${draft.body.id}`)).body.plan;
    const ok = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      role: "operator",
      body: { auto_run: false, content_hash: contentHash(current) },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.approved.content_hash).toBe(contentHash(current));
  });

  /** A run claimed over HTTP and completed with the commits the test made in the project's repo. */
  async function finishedRun(result: (taskId: string) => Record<string, unknown>) {
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "p", plan: samplePlan() },
    });
    const approve = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      body: { auto_run: true },
    });
    const claim = await g.request("POST", "/ops/runs/claim", {
      role: "runner",
      body: { runner_id: runnerId },
    });
    const run = claim.body.run;
    expect(run.id).toBe(approve.body.run.id);
    const done = await g.request("POST", `/ops/runs/${run.id}/complete`, {
      role: "runner",
      body: { runner_id: runnerId, attempt: run.attempt, status: "succeeded", result: result(run.task_id) },
    });
    expect(done.status).toBe(200);
    return run.id as string;
  }

  it("GET /ops/runs/{id}/diff shows the run's change from its commits, for read roles only", async () => {
    const base = await g.repo.git("rev-parse", "HEAD");
    await g.repo.git("checkout", "-q", "-b", "scratch");
    writeFileSync(join(g.repo.path, "calc.js"), "export const add = (a, b) => a + b;\n");
    await g.repo.git("add", "calc.js");
    await g.repo.git("commit", "-q", "-m", "fix add");
    const head = await g.repo.git("rev-parse", "HEAD");
    await g.repo.git("checkout", "-q", "main");
    const runId = await finishedRun((task) => ({ branch: `task/${task}`, base_sha: base, head_sha: head }));

    for (const role of ["actions", "operator", "admin"] as const) {
      const res = await g.request("GET", `/ops/runs/${runId}/diff`, { role });
      expect(res.status, role).toBe(200);
      expect(res.body).toMatchObject({ run_id: runId, base_sha: base, head_sha: head, truncated: false });
      expect(res.body.diff).toContain("+++ b/calc.js");
      expect(res.body.diff).toContain("+export const add = (a, b) => a + b;");
    }
    expect((await g.request("GET", `/ops/runs/${runId}/diff`, { role: "runner" })).status).toBe(403);
    expect((await g.request("GET", `/ops/runs/${runId}/diff`, { role: null })).status).toBe(401);
    expect((await g.request("GET", "/ops/runs/r_01JD0000000000000000000000/diff")).status).toBe(404);
    expect((await g.request("GET", "/ops/runs/nope/diff")).status).toBe(400);
  });

  it("cuts a large diff at its cap and says so", async () => {
    const base = await g.repo.git("rev-parse", "HEAD");
    await g.repo.git("checkout", "-q", "-b", "big");
    writeFileSync(join(g.repo.path, "big.txt"), `${"x".repeat(99)}\n`.repeat(40_000));
    await g.repo.git("add", "big.txt");
    await g.repo.git("commit", "-q", "-m", "big");
    const head = await g.repo.git("rev-parse", "HEAD");
    await g.repo.git("checkout", "-q", "main");
    const runId = await finishedRun((task) => ({ branch: `task/${task}`, base_sha: base, head_sha: head }));
    const res = await g.request("GET", `/ops/runs/${runId}/diff`);
    expect(res.status).toBe(200);
    expect(res.body.truncated).toBe(true);
    expect(Buffer.byteLength(res.body.diff)).toBeLessThanOrEqual(res.body.max_bytes);
    expect(res.body.max_bytes).toBe(2 * 1024 * 1024);
  });

  it("answers 409 with the reason for a run without commits or with commits that are not object names", async () => {
    const queued = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "p", plan: samplePlan() },
    });
    const approve = await g.request("POST", `/ops/drafts/${queued.body.id}/approve`, {
      body: { auto_run: true },
    });
    const none = await g.request("GET", `/ops/runs/${approve.body.run.id}/diff`);
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/no commit/);
    await g.request("POST", `/ops/runs/${approve.body.run.id}/cancel`);
    // What a runner reports is never handed to git as an option or a revision expression.
    const runId = await finishedRun((task) => ({
      branch: `task/${task}`,
      base_sha: "--output=/tmp/pwned",
      head_sha: "HEAD~1",
    }));
    const res = await g.request("GET", `/ops/runs/${runId}/diff`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/not object names/);
    const gone = await finishedRun((task) => ({
      branch: `task/${task}`,
      base_sha: "0".repeat(40),
      head_sha: "1".repeat(40),
    }));
    const missing = await g.request("GET", `/ops/runs/${gone}/diff`);
    expect(missing.status).toBe(409);
    expect(missing.body.error.message).toMatch(/no longer in the project's repository/);
  });
});
