import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../src/core/roles.ts";
import { createGimo, listen } from "../src/gimo.ts";
import type { Database } from "../src/store/schema.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * Panic mode: while on, every mutation but panic-off answers 423 `panic_mode` and changes nothing;
 * reads keep working; switching it on and off is audited. Also the plan's optimistic If-Match.
 */
const TABLES: (keyof Database)[] = [
  "projects",
  "plans",
  "tasks",
  "drafts",
  "approved",
  "runs",
  "run_dependencies",
  "events",
  "event_head",
  "tokens",
  "idempotency",
  "settings",
];

interface Attempt {
  method: string;
  path: string;
  role: Role;
  body?: unknown;
  headers?: Record<string, string>;
}

describe.each(storageKinds())("panic mode on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  const db = () => g.gimo.services.ctx.store.db;

  /** Every row of every table, to prove that nothing changed. */
  async function snapshot(): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES) {
      const rows = await db().selectFrom(table).selectAll().execute();
      out[table] = rows.map((r) => JSON.stringify(r)).sort();
    }
    return out;
  }

  async function newDraft(prompt: string) {
    const res = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt, plan: samplePlan() },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; task_id: string };
  }

  async function setPanic(on: boolean, reason?: string) {
    return g.request("POST", "/ops/panic", { body: reason === undefined ? { on } : { on, reason } });
  }

  it("refuses every mutation with 423 panic_mode, changes nothing, and lets reads through", async () => {
    // Something of everything to try to change.
    const pending = await newDraft("pending");
    const toApprove = await newDraft("to approve");
    const approved = await g.request("POST", `/ops/drafts/${toApprove.id}/approve`, {
      role: "operator",
      body: { auto_run: true },
    });
    expect(approved.status).toBe(201);
    const queuedRun = approved.body.run.id as string;
    const other = await newDraft("cancelled run");
    const otherApproved = await g.request("POST", `/ops/drafts/${other.id}/approve`, {
      role: "operator",
      body: { auto_run: true },
    });
    const cancelledRun = otherApproved.body.run.id as string;
    expect((await g.request("POST", `/ops/runs/${cancelledRun}/cancel`, { role: "operator" })).status).toBe(
      200,
    );
    const minted = await g.request("POST", "/ops/tokens", { body: { name: "panic-bot", role: "operator" } });
    expect(minted.status).toBe(201);
    const plan = await g.request("GET", "/ops/plan");

    const on = await setPanic(true, "leaked key");
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ on: true, reason: "leaked key", by: "env:admin" });
    expect(Date.parse(on.body.since)).not.toBeNaN();

    const before = await snapshot();
    const attempts: Attempt[] = [
      { method: "POST", path: "/ops/drafts", role: "operator", body: { prompt: "new", plan: samplePlan() } },
      {
        method: "POST",
        path: "/ops/drafts",
        role: "operator",
        body: { prompt: "retry later", plan: samplePlan() },
        headers: { "idempotency-key": "during-panic" },
      },
      {
        method: "POST",
        path: "/ops/drafts",
        role: "operator",
        body: { prompt: "revision", task_id: pending.task_id, plan: samplePlan("Rev 2") },
      },
      { method: "PUT", path: `/ops/drafts/${pending.id}`, role: "operator", body: { prompt: "edited" } },
      {
        method: "POST",
        path: `/ops/drafts/${pending.id}/approve`,
        role: "operator",
        body: { auto_run: true },
      },
      { method: "POST", path: `/ops/drafts/${pending.id}/approve`, role: "admin" },
      { method: "POST", path: `/ops/drafts/${pending.id}/reject`, role: "operator", body: { reason: "no" } },
      {
        method: "POST",
        path: "/ops/runs",
        role: "operator",
        body: { approved_id: approved.body.approved.id },
      },
      { method: "POST", path: `/ops/runs/${queuedRun}/cancel`, role: "operator" },
      {
        method: "POST",
        path: `/ops/runs/${cancelledRun}/requeue`,
        role: "operator",
        body: { backoff_seconds: 0 },
      },
      {
        method: "PUT",
        path: "/ops/plan",
        role: "admin",
        body: { objective: "changed in panic" },
        headers: { "if-match": String(plan.body.version) },
      },
      { method: "PUT", path: "/ops/plan", role: "admin", body: { objective: "no if-match" } },
      {
        method: "POST",
        path: "/ops/projects",
        role: "admin",
        body: { name: "another", repo_url: "https://example.com/o/r.git" },
      },
      { method: "PATCH", path: `/ops/projects/${g.projectId}`, role: "admin", body: { name: "renamed" } },
      { method: "POST", path: "/ops/tokens", role: "admin", body: { name: "panic-new", role: "actions" } },
      { method: "DELETE", path: `/ops/tokens/${minted.body.id}`, role: "admin" },
      // Turning it "on" again is a mutation too: only panic-off gets through.
      { method: "POST", path: "/ops/panic", role: "admin", body: { on: true, reason: "still on" } },
    ];
    for (const a of attempts) {
      const res = await g.request(a.method, a.path, { role: a.role, body: a.body, headers: a.headers });
      expect({ route: `${a.method} ${a.path}`, status: res.status, code: res.body?.error?.code }).toEqual({
        route: `${a.method} ${a.path}`,
        status: 423,
        code: "panic_mode",
      });
      expect(res.body.error.message).toContain("leaked key");
    }
    // Even a burst of them at once.
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        g.request("POST", "/ops/drafts", {
          role: "operator",
          body: { prompt: `burst ${i}`, plan: samplePlan() },
        }),
      ),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(423));
    expect(await snapshot()).toEqual(before);

    // The minted token still authenticates; reads keep working for every reader.
    const reads: [string, Role | null, string?][] = [
      ["/health", null],
      ["/ready", null],
      ["/status", "actions"],
      ["/ops/panic", "actions"],
      ["/ops/drafts", "actions"],
      [`/ops/drafts/${pending.id}`, "actions"],
      ["/ops/tasks", "actions"],
      [`/ops/tasks/${pending.task_id}`, "actions"],
      ["/ops/approved", "actions"],
      ["/ops/runs", "actions"],
      [`/ops/runs/${queuedRun}`, "actions"],
      ["/ops/plan", "actions"],
      ["/ops/projects", "actions"],
      ["/ops/tokens", "admin"],
      ["/ops/audit", "admin"],
      ["/ops/audit/verify", "admin"],
      ["/ops/drafts", null, minted.body.token],
    ];
    for (const [path, role, token] of reads) {
      const res = await g.request("GET", path, token ? { token } : { role });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
    const status = await g.request("GET", "/status", { role: "actions" });
    expect(status.body.panic).toMatchObject({ on: true, reason: "leaked key" });
    expect((await g.request("GET", "/ops/panic", { role: "operator" })).body).toEqual(on.body);
    expect((await g.request("GET", `/ops/drafts/${pending.id}`)).body.status).toBe("draft");
    expect((await g.request("GET", `/ops/runs/${queuedRun}`)).body.status).toBe("queued");
    expect((await g.request("GET", "/ops/audit/verify")).body.ok).toBe(true);

    // Only an admin may flip the switch.
    expect((await g.request("POST", "/ops/panic", { role: "operator", body: { on: false } })).status).toBe(
      403,
    );

    const off = await setPanic(false);
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ on: false, reason: null, since: null, by: null });
    const offAgain = await setPanic(false);
    expect(offAgain.status).toBe(409);

    // Mutations work again, the idempotency key refused during panic included.
    const retried = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "retry later", plan: samplePlan() },
      headers: { "idempotency-key": "during-panic" },
    });
    expect(retried.status).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    const approve = await g.request("POST", `/ops/drafts/${pending.id}/approve`, {
      role: "operator",
      body: {},
    });
    expect(approve.status).toBe(201);
    expect((await g.request("POST", `/ops/runs/${queuedRun}/cancel`, { role: "operator" })).status).toBe(200);
    expect((await g.request("DELETE", `/ops/tokens/${minted.body.id}`)).status).toBe(200);
    const patched = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: { test_command: "true" },
    });
    expect(patched.status).toBe(200);
  });

  it("audits panic on and off with who, when and why", async () => {
    const on = await setPanic(true, "audit me");
    expect(on.status).toBe(200);
    const off = await g.request("POST", "/ops/panic", { body: { on: false, reason: "all clear" } });
    expect(off.status).toBe(200);
    const events = await g.request("GET", "/ops/audit?subject=panic&limit=200");
    expect(events.status).toBe(200);
    const items = events.body.items as {
      type: string;
      actor: string;
      role: string;
      data: { reason: unknown };
    }[];
    const last = items.slice(-2);
    expect(last.map((e) => e.type)).toEqual(["panic.on", "panic.off"]);
    expect(last[0]).toMatchObject({ actor: "env:admin", role: "admin", data: { reason: "audit me" } });
    expect(last[1]).toMatchObject({ actor: "env:admin", role: "admin", data: { reason: "all clear" } });
    // Each switch is one event; a refused "off" adds none.
    const count = items.length;
    expect((await setPanic(false)).status).toBe(409);
    const again = await g.request("GET", "/ops/audit?subject=panic&limit=200");
    expect(again.body.items).toHaveLength(count);
    expect((await g.request("GET", "/ops/audit/verify")).body.ok).toBe(true);
  });

  it("keeps panic mode in the database: a second server on it refuses writes too", async () => {
    expect((await setPanic(true, "persisted")).status).toBe(200);
    const replica = await createGimo(g.gimo.config, {});
    const server = await listen(replica);
    try {
      const post = (token: string, body: unknown) =>
        fetch(`${server.url}/ops/drafts`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const refused = await post(g.tokens.operator, { prompt: "nope", plan: samplePlan() });
      expect(refused.status).toBe(423);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("panic_mode");
      const status = await fetch(`${server.url}/status`, {
        headers: { authorization: `Bearer ${g.tokens.actions}` },
      });
      expect(((await status.json()) as { panic: { on: boolean } }).panic.on).toBe(true);
      // Switched off through the first server, the second one accepts writes at once.
      expect((await setPanic(false)).status).toBe(200);
      expect((await post(g.tokens.operator, { prompt: "yes", plan: samplePlan() })).status).toBe(201);
    } finally {
      await server.close();
      await replica.close();
      await g.request("POST", "/ops/panic", { body: { on: false } });
    }
  });

  describe("the plan's If-Match", () => {
    it("refuses a stale version with 409, accepts the current one and bumps the version", async () => {
      const current = await g.request("GET", "/ops/plan");
      expect(current.status).toBe(200);
      const v = current.body.version as number;
      expect(current.headers.get("etag")).toBe(`"${v}"`);

      const ok = await g.request("PUT", "/ops/plan", {
        headers: { "if-match": String(v) },
        body: { objective: "first", constraints: ["no force push"] },
      });
      expect(ok.status).toBe(200);
      expect(ok.body.version).toBe(v + 1);
      expect(ok.body).toMatchObject({
        objective: "first",
        constraints: ["no force push"],
        updated_by: "env:admin",
      });
      expect(ok.headers.get("etag")).toBe(`"${v + 1}"`);

      const stale = await g.request("PUT", "/ops/plan", {
        headers: { "if-match": String(v) },
        body: { objective: "lost update" },
      });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe("stale_version");
      expect(stale.body.error.details).toMatchObject({ current_version: v + 1 });
      const ahead = await g.request("PUT", "/ops/plan", {
        headers: { "if-match": String(v + 5) },
        body: { objective: "from the future" },
      });
      expect(ahead.status).toBe(409);
      const after = await g.request("GET", "/ops/plan");
      expect(after.body).toMatchObject({ objective: "first", version: v + 1 });

      // The ETag forms a client may echo back.
      const quoted = await g.request("PUT", "/ops/plan", {
        headers: { "if-match": `"${v + 1}"` },
        body: { objective: "second" },
      });
      expect(quoted.status).toBe(200);
      expect(quoted.body.version).toBe(v + 2);
      const weak = await g.request("PUT", "/ops/plan", {
        headers: { "if-match": `W/"${v + 2}"` },
        body: { objective: "third" },
      });
      expect(weak.status).toBe(200);
      expect(weak.body.version).toBe(v + 3);

      const updates = await g.request("GET", `/ops/audit?subject=${g.projectId}&type=plan.updated&limit=200`);
      expect(updates.body.items.slice(-3).map((e: { data: { version: number } }) => e.data.version)).toEqual([
        v + 1,
        v + 2,
        v + 3,
      ]);
    });

    it("answers 400 to an If-Match that is not a version", async () => {
      const before = await g.request("GET", "/ops/plan");
      for (const bad of ["abc", "1.5", "-1", '"x"', "1,2", "W/", "9".repeat(30)]) {
        const res = await g.request("PUT", "/ops/plan", {
          headers: { "if-match": bad },
          body: { objective: "bad" },
        });
        expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
        expect(res.body.error.code).toBe("validation_failed");
      }
      const after = await g.request("GET", "/ops/plan");
      expect(after.body).toEqual(before.body);
    });

    it("of 10 concurrent writes against one version exactly one wins", async () => {
      const current = await g.request("GET", "/ops/plan");
      const v = current.body.version as number;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          g.request("PUT", "/ops/plan", {
            headers: { "if-match": String(v) },
            body: { objective: `racer ${i}` },
          }),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(9);
      const winner = results.find((r) => r.status === 200);
      const after = await g.request("GET", "/ops/plan");
      expect(after.body).toMatchObject({ version: v + 1, objective: winner?.body.objective });
    });

    it("is refused in panic mode like any other write", async () => {
      const current = await g.request("GET", "/ops/plan");
      expect((await setPanic(true, "frozen")).status).toBe(200);
      try {
        const res = await g.request("PUT", "/ops/plan", {
          headers: { "if-match": String(current.body.version) },
          body: { objective: "frozen" },
        });
        expect(res.status).toBe(423);
      } finally {
        expect((await setPanic(false)).status).toBe(200);
      }
      expect((await g.request("GET", "/ops/plan")).body.version).toBe(current.body.version);
    });
  });
});
