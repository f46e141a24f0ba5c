import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { startTinyService, type TinyService } from "./support/integration-servers.ts";
import { queueRuns } from "./support/runs.ts";

/**
 * The integrations registry (SPEC §7.6) on both databases, against real services: a second GIMO
 * is the OpenAPI service (its /openapi.json, its bearer-token routes), and a small node:http
 * service plays what GIMO never does (redirects, a huge answer). Registration, discovery, the
 * allow-list, the gateway's test call, the address guard, sealed secrets and the audit trail.
 */
const SECRET = "svc-literal-secret-7f3a9c";

describe.each(storageKinds())("integrations registry on %s", (kind) => {
  let g: TestGimo;
  let service: TestGimo;
  let tiny: TinyService;
  let elsewhere: TinyService;

  beforeAll(async () => {
    service = await startGimo("sqlite");
    elsewhere = await startTinyService({
      "/landing": (_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("landed"),
    });
    tiny = await startTinyService(
      {
        "/big": (_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("x".repeat(200_000)),
        "/to-metadata": (_req, res) =>
          res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end(),
        "/to-elsewhere": (_req, res) => res.writeHead(302, { location: `${elsewhere.url}/landing` }).end(),
        "/echo-header": (req, res) =>
          res.writeHead(200, { "content-type": "text/plain" }).end(`you sent ${req.headers["x-api-key"]}`),
      },
      {
        openapi: "3.0.3",
        info: { title: "tiny", version: "1" },
        paths: Object.fromEntries(
          ["big", "to-metadata", "to-elsewhere", "echo-header"].map((p) => [
            `/${p}`,
            { get: { operationId: p.replace("-", "_"), summary: `GET /${p}` } },
          ]),
        ),
      },
    );
    g = await startGimo(kind, {}, { env: { SERVICE_TOKEN: service.tokens.actions } });
  });
  afterAll(async () => {
    await g?.close();
    await service?.close();
    await tiny?.close();
    await elsewhere?.close();
  });

  const register = (body: Record<string, unknown>) => g.request("POST", "/ops/integrations", { body });

  it("discovers a second GIMO's operations from its /openapi.json and calls one with a ${VAR} header", async () => {
    const created = await register({
      name: "gimo2",
      kind: "openapi",
      base_url: service.url,
      headers: { authorization: "Bearer ${SERVICE_TOKEN}" },
      allow_private: true,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.status).toBe("online");
    const names = created.body.operations.map((o: { name: string }) => o.name);
    expect(names).toEqual(expect.arrayContaining(["getStatus", "listProjects", "getProject", "createDraft"]));
    const getProject = created.body.operations.find((o: { name: string }) => o.name === "getProject");
    expect(getProject).toMatchObject({ method: "GET", path: "/ops/projects/{id}", allowed: null });
    expect(getProject.input_schema.required).toEqual(["id"]);
    expect(created.body.headers).toEqual({ authorization: "Bearer ${SERVICE_TOKEN}" });

    const call = await g.request("POST", `/ops/integrations/${created.body.id}/test`, {
      body: { operation: "getProject", arguments: { id: service.projectId } },
    });
    expect(call.status, call.text).toBe(200);
    expect(call.body).toMatchObject({ ok: true, status: "ok", http_status: 200 });
    expect(call.body.content).toContain(service.projectId);
    expect(call.text).not.toContain(service.tokens.actions);

    // Arguments are checked against the discovered schema before anything is sent.
    const seenBefore = service.responses.length;
    const bad = await g.request("POST", `/ops/integrations/${created.body.id}/test`, {
      body: { operation: "getProject", arguments: { id: 42, extra: true } },
    });
    expect(bad.body).toMatchObject({ ok: false, status: "invalid_arguments" });
    expect(bad.body.content).toMatch(/must be string|additional properties/);
    expect(service.responses.length).toBe(seenBefore);

    // The audit trail has the call's name, status and duration — not its arguments or answer.
    const audit = await g.request("GET", "/ops/audit?limit=200");
    const called = audit.body.items.filter((e: { type: string }) => e.type === "integration.called");
    expect(called.map((e: { data: { status: string } }) => e.data.status)).toEqual([
      "ok",
      "invalid_arguments",
    ]);
    expect(called[0].data).toMatchObject({
      name: "gimo2",
      operation: "getProject",
      caller: "test",
      http_status: 200,
    });
    expect(typeof called[0].data.duration_ms).toBe("number");
    expect(JSON.stringify(called)).not.toContain(service.projectId);
  });

  it("allow-lists discovered operations everywhere or per project, and refuses unknown ones", async () => {
    const list = await g.request("GET", "/ops/integrations", { role: "actions" });
    const id = list.body.items.find((i: { name: string }) => i.name === "gimo2").id;
    const unknown = await g.request("PUT", `/ops/integrations/${id}/allowlist`, {
      body: { operations: [{ operation: "noSuchOperation" }] },
    });
    expect(unknown.status).toBe(422);
    const missingProject = await g.request("PUT", `/ops/integrations/${id}/allowlist`, {
      body: { operations: [{ operation: "getStatus", projects: ["p_01JD0000000000000000000000"] }] },
    });
    expect(missingProject.status).toBe(404);
    const ok = await g.request("PUT", `/ops/integrations/${id}/allowlist`, {
      body: {
        operations: [{ operation: "getStatus" }, { operation: "getProject", projects: [g.projectId] }],
      },
    });
    expect(ok.status, ok.text).toBe(200);
    const allowed = Object.fromEntries(
      ok.body.operations.map((o: { name: string; allowed: unknown }) => [o.name, o.allowed]),
    );
    expect(allowed).toMatchObject({ getStatus: "everywhere", getProject: [g.projectId], listProjects: null });
    const tools = await g.gimo.services.integrations.toolsFor(g.projectId);
    expect(tools.map((t) => t.name).sort()).toEqual(["gimo2__getProject", "gimo2__getStatus"]);
    expect(await g.gimo.services.integrations.toolsFor("p_other")).toHaveLength(1);
    // Only admins change it.
    const asOperator = await g.request("PUT", `/ops/integrations/${id}/allowlist`, {
      role: "operator",
      body: { operations: [] },
    });
    expect(asOperator.status).toBe(403);
  });

  it("lets a runner call allow-listed operations for the run it holds, and only those", async () => {
    const [runId] = await queueRuns(g, 1);
    const asRunner = (path: string, body: unknown) => g.request("POST", path, { role: "runner", body });
    const { runner_id } = (await asRunner("/ops/runners/register", { name: "integration-runner" })).body;
    const claimed = (await asRunner("/ops/runs/claim", { runner_id })).body;
    expect(claimed.run.id).toBe(runId);
    const fence = { runner_id, attempt: claimed.run.attempt };

    const tools = await asRunner(`/ops/runs/${runId}/integrations`, fence);
    expect(tools.body.tools.map((t: { name: string }) => t.name).sort()).toEqual([
      "gimo2__getProject",
      "gimo2__getStatus",
    ]);
    const allowed = await asRunner(`/ops/runs/${runId}/integrations/gimo2/getStatus`, {
      ...fence,
      arguments: {},
    });
    expect(allowed.body, allowed.text).toMatchObject({ ok: true, status: "ok", http_status: 200 });
    const refused = await asRunner(`/ops/runs/${runId}/integrations/gimo2/listProjects`, {
      ...fence,
      arguments: {},
    });
    expect(refused.body).toMatchObject({ ok: false, status: "refused" });
    expect(refused.body.content).toContain("not allow-listed");
    const unknown = await asRunner(`/ops/runs/${runId}/integrations/nobody/getStatus`, {
      ...fence,
      arguments: {},
    });
    expect(unknown.status, unknown.text).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    // A runner that does not hold the attempt calls nothing.
    const stale = await asRunner(`/ops/runs/${runId}/integrations/gimo2/getStatus`, {
      runner_id,
      attempt: fence.attempt + 1,
      arguments: {},
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("lease_lost");
    const audit = await g.request("GET", "/ops/audit?limit=200");
    const byRun = audit.body.items.filter(
      (e: { type: string; data: { run_id?: string } }) =>
        e.type === "integration.called" && e.data.run_id === runId,
    );
    expect(byRun.map((e: { data: { status: string } }) => e.data.status)).toEqual(["ok", "refused"]);
    await asRunner(`/ops/runs/${runId}/complete`, { ...fence, status: "succeeded", result: {} });
  });

  it("refuses link-local and metadata addresses always, private ones without allow_private", async () => {
    for (const base_url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://[fd00:ec2::254]/",
      "http://[fe80::1]/",
      "http://169.254.10.10/",
    ]) {
      const res = await register({
        name: "meta",
        kind: "openapi",
        base_url,
        allow_private: true,
        allow_offline: true,
      });
      expect(res.status, `${base_url}: ${res.text}`).toBe(422);
    }
    // Refused when written, even when discovery could not have run (a secret it needs is missing).
    const unresolved = await register({
      name: "meta",
      kind: "openapi",
      base_url: "http://169.254.169.254/",
      headers: { authorization: "${NOT_SET_ANYWHERE}" },
      allow_offline: true,
    });
    expect(unresolved.status, unresolved.text).toBe(422);
    expect(unresolved.body.error.message).toContain("base_url: 169.254.169.254 is a cloud metadata address");
    // A literal private address, and a name resolving to one (localhost), without allow_private.
    const literal = await register({ name: "priv", kind: "openapi", base_url: service.url });
    expect(literal.status, literal.text).toBe(422);
    expect(literal.body.error.message).toContain("allow_private");
    const byName = await register({
      name: "priv",
      kind: "openapi",
      base_url: service.url.replace("127.0.0.1", "localhost"),
      allow_offline: true,
    });
    expect(byName.status, byName.text).toBe(422);
    expect(byName.body.error.message).toMatch(/localhost resolves to .*private or loopback/);
  });

  it("guards redirects: to a metadata address refused, to another origin without the secret header", async () => {
    const created = await register({
      name: "tiny",
      kind: "openapi",
      base_url: tiny.url,
      headers: { "x-api-key": SECRET },
      allow_private: true,
      max_response_bytes: 100_000,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.headers).toEqual({ "x-api-key": "[redacted]" });
    const test = (operation: string) =>
      g.request("POST", `/ops/integrations/${created.body.id}/test`, { body: { operation } });

    const meta = await test("to_metadata");
    expect(meta.body).toMatchObject({ ok: false, status: "refused" });
    expect(meta.body.content).toContain("169.254.169.254");

    const moved = await test("to_elsewhere");
    expect(moved.body).toMatchObject({ ok: true, status: "ok" });
    expect(moved.body.content).toContain("landed");
    expect(elsewhere.seen.at(-1)?.headers["x-api-key"]).toBeUndefined();
    expect(tiny.seen.find((s) => s.path === "/to-elsewhere")?.headers["x-api-key"]).toBe(SECRET);

    // The cap: a 200 kB answer from an integration capped at 100 kB.
    const big = await test("big");
    expect(big.body).toMatchObject({ ok: false, status: "too_large" });

    // A service echoing the secret: the answer is redacted.
    const echo = await test("echo_header");
    expect(echo.body.content).toContain("you sent [redacted]");
    expect(echo.text).not.toContain(SECRET);

    // The literal header is sealed at rest, nowhere in clear in the database.
    const row = await g.gimo.services.ctx.store.db
      .selectFrom("integrations")
      .select("config")
      .where("id", "=", created.body.id)
      .executeTakeFirstOrThrow();
    expect(row.config).not.toContain(SECRET);
    expect(row.config).toContain("gimo-sealed:v1:");
    // [redacted] sent back keeps it.
    const patched = await g.request("PATCH", `/ops/integrations/${created.body.id}`, {
      body: { headers: { "x-api-key": "[redacted]" }, timeout_ms: 5_000 },
    });
    expect(patched.status, patched.text).toBe(200);
    expect((await test("echo_header")).body.content).toContain("you sent [redacted]");
    expect(tiny.seen.at(-1)?.headers["x-api-key"]).toBe(SECRET);
  });

  it("calls nothing in panic mode, and still audits the refusal", async () => {
    const list = await g.request("GET", "/ops/integrations");
    const id = list.body.items.find((i: { name: string }) => i.name === "gimo2").id;
    await g.request("POST", "/ops/panic", { body: { on: true, reason: "integration test" } });
    try {
      const seen = service.responses.length;
      const res = await g.request("POST", `/ops/integrations/${id}/test`, {
        body: { operation: "getStatus" },
      });
      expect(res.status, res.text).toBe(423);
      expect(res.body.error.code).toBe("panic_mode");
      expect(service.responses.length).toBe(seen);
      const last = await g.gimo.services.ctx.store.db
        .selectFrom("events")
        .select(["type", "data"])
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirstOrThrow();
      expect(last.type).toBe("integration.called");
      expect(JSON.parse(last.data)).toMatchObject({
        name: "gimo2",
        operation: "getStatus",
        status: "refused",
      });
    } finally {
      await g.request("POST", "/ops/panic", { body: { on: false } });
    }
  });

  it("refuses an unreachable service unless allow_offline, and shows it offline until discovered", async () => {
    const down = `http://127.0.0.1:9/`;
    const refused = await register({ name: "down", kind: "openapi", base_url: down, allow_private: true });
    expect(refused.status, refused.text).toBe(503);
    const offline = await register({
      name: "down",
      kind: "openapi",
      base_url: down,
      allow_private: true,
      allow_offline: true,
    });
    expect(offline.status, offline.text).toBe(201);
    expect(offline.body).toMatchObject({ status: "offline", operations: [] });
    expect(offline.body.discovery_error).toContain("no OpenAPI document found");
    const again = await g.request("POST", `/ops/integrations/${offline.body.id}/discover`);
    expect(again.body.status).toBe("offline");
    const moved = await g.request("PATCH", `/ops/integrations/${offline.body.id}`, {
      body: { base_url: service.url },
    });
    expect(moved.body).toMatchObject({ status: "online", discovery_error: null });
    expect(moved.body.operations.length).toBeGreaterThan(10);
    const duplicate = await register({
      name: "down",
      kind: "openapi",
      base_url: service.url,
      allow_private: true,
    });
    expect(duplicate.status).toBe(409);
    const gone = await g.request("DELETE", `/ops/integrations/${offline.body.id}`);
    expect(gone.body).toEqual({ deleted: true });
    expect((await g.request("GET", `/ops/integrations/${offline.body.id}`)).status).toBe(404);
  });

  it("validates registrations at the boundary", async () => {
    const cases: Record<string, unknown>[] = [
      { name: "Bad Name", kind: "openapi", base_url: service.url },
      { name: "x", kind: "soap", base_url: service.url },
      { name: "x", kind: "openapi" },
      { name: "x", kind: "openapi", base_url: "file:///etc/passwd" },
      { name: "x", kind: "openapi", base_url: "http://user:pw@example.com/" },
      { name: "x", kind: "openapi", stdio: { command: "node" } },
      { name: "x", kind: "mcp", base_url: service.url, stdio: { command: "node" } },
      { name: "x", kind: "openapi", base_url: service.url, headers: { "bad header": "v" } },
      { name: "x", kind: "openapi", base_url: service.url, headers: { h: "a\r\nb" } },
      { name: "x", kind: "openapi", base_url: service.url, timeout_ms: 0 },
    ];
    for (const body of cases) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it("writes integration events of the catalogue, never a secret", async () => {
    const items: { type: string }[] = [];
    for (let cursor = ""; ; ) {
      const page = await g.request("GET", `/ops/audit?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
      items.push(...page.body.items);
      if (!page.body.next_cursor) break;
      cursor = page.body.next_cursor;
    }
    const types = new Set(items.map((e) => e.type));
    for (const t of [
      "integration.created",
      "integration.discovered",
      "integration.allowlist_updated",
      "integration.updated",
      "integration.deleted",
      "integration.called",
    ])
      expect(types, t).toContain(t);
    expect(JSON.stringify(items)).not.toContain(SECRET);
  });
});
