import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TTL_MS } from "../src/app/principal-cache.ts";
import { createGimo, listen } from "../src/gimo.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { openSse, type SseClient } from "./support/sse.ts";

/**
 * Minted tokens: names that cannot pass for a built-in identity, and a token's open event
 * streams end when it is revoked or expires (SSE over a real socket, node:http).
 */
describe.each(storageKinds())("minted tokens on %s", (kind) => {
  let g: TestGimo;
  const open: SseClient[] = [];
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(async () => {
    await g?.close();
  });

  let n = 0;
  const mint = async (role: "actions" | "operator", expiresAt?: string) => {
    const res = await g.request("POST", "/ops/tokens", {
      body: { name: `stream-${role}-${++n}`, role, ...(expiresAt ? { expires_at: expiresAt } : {}) },
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; token: string };
  };
  const stream = async (path: string, token: string, url = g.url) => {
    const s = await openSse(`${url}${path}`, token);
    expect(s.status).toBe(200);
    open.push(s);
    return s;
  };
  const newDraft = async () => {
    const res = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "stream me", plan: samplePlan() },
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const sees = (id: string) => (frames: { data: string }[]) => frames.some((f) => f.data.includes(id));

  it("refuses names that would make a token's actor an environment token's or the system's", async () => {
    const before = await g.gimo.services.audit.headSeq();
    for (const name of [
      "env:operator",
      "env:admin",
      "ENV:admin",
      "env:",
      "system",
      "System",
      "system-ops",
      "embedded-runner",
    ]) {
      const res = await g.request("POST", "/ops/tokens", { body: { name, role: "operator" } });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.message).toMatch(/reserved/);
    }
    expect(await g.gimo.services.audit.headSeq()).toBe(before);
    const list = await g.request("GET", "/ops/tokens?limit=200");
    expect(list.body.items.map((t: { name: string }) => t.name)).toEqual([]);
    // Names that only look alike are fine.
    for (const name of ["environment", "envoy:bot", "my-system", "sys"]) {
      const res = await g.request("POST", "/ops/tokens", { body: { name, role: "actions" } });
      expect({ name, status: res.status }).toEqual({ name, status: 201 });
    }
  });

  it("revoking a token ends its open event streams at once, and only its own", async () => {
    const minted = await mint("actions");
    const doomed = await stream("/ops/events", minted.token);
    const bystander = await stream("/ops/events", g.tokens.actions);
    const first = await newDraft();
    await doomed.until(sees(first), "the first draft");
    expect((await g.request("DELETE", `/ops/tokens/${minted.id}`)).status).toBe(200);
    // At once: well before the periodic re-check (token-watch RECHECK_MS) could have noticed.
    expect(await doomed.endsWithin(2_000)).toBeLessThan(500);
    // The bystander's stream goes on, and the revoked one saw nothing more.
    const second = await newDraft();
    await bystander.until(sees(second), "the second draft");
    expect(bystander.ended).toBe(false);
    expect(doomed.frames.some((f) => f.data.includes(second))).toBe(false);
    // Reconnecting is refused.
    const again = await openSse(`${g.url}/ops/events`, minted.token);
    expect(again.status).toBe(401);
    again.close();
  });

  it("ends a run's stream when its token is revoked", async () => {
    const minted = await mint("operator");
    const draft = await newDraft();
    const approved = await g.request("POST", `/ops/drafts/${draft}/approve`, { body: { auto_run: true } });
    const runId = approved.body.run.id as string;
    const s = await stream(`/ops/runs/${runId}/events?after=0`, minted.token);
    await s.until((f) => f.some((x) => x.event === "run.queued"), "run.queued");
    expect((await g.request("DELETE", `/ops/tokens/${minted.id}`)).status).toBe(200);
    expect(await s.endsWithin(2_000)).toBeLessThan(500);
    await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" });
  });

  it("ends a stream when its token expires mid-stream", async () => {
    const expiresAt = Date.now() + 3_000;
    const minted = await mint("actions", new Date(expiresAt).toISOString());
    const s = await stream("/ops/events", minted.token);
    const draft = await newDraft();
    await s.until(sees(draft), "a draft before expiry");
    await s.endsWithin(6_000);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(Date.now() - expiresAt).toBeLessThan(1_000);
    expect((await g.request("GET", "/ops/tasks", { token: minted.token })).status).toBe(401);
  });

  it("a token revoked here is refused at once, though its principal was cached", async () => {
    const minted = await mint("operator");
    for (let i = 0; i < 3; i++)
      expect((await g.request("GET", "/ops/tasks", { token: minted.token })).status).toBe(200);
    const revoked = await g.request("DELETE", `/ops/tokens/${minted.id}`);
    expect(revoked.status).toBe(200);
    expect((await g.request("GET", "/ops/tasks", { token: minted.token })).status).toBe(401);
  });

  it.runIf(kind === "postgres")(
    "a token revoked by another replica is refused here within the principal cache's TTL",
    async () => {
      const replica = await createGimo(g.gimo.config, {});
      const server = await listen(replica);
      try {
        const minted = await mint("operator");
        expect((await g.request("GET", "/ops/tasks", { token: minted.token })).status).toBe(200);
        const res = await fetch(`${server.url}/ops/tokens/${minted.id}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${g.tokens.admin}` },
        });
        expect(res.status).toBe(200);
        expect(
          (await fetch(`${server.url}/ops/tasks`, { headers: { authorization: `Bearer ${minted.token}` } }))
            .status,
        ).toBe(401);
        const revokedAt = Date.now();
        let status = 200;
        while (status === 200 && Date.now() - revokedAt < TTL_MS + 3_000) {
          status = (await g.request("GET", "/ops/tasks", { token: minted.token })).status;
          if (status === 200) await new Promise((r) => setTimeout(r, 50));
        }
        expect(status).toBe(401);
        expect(Date.now() - revokedAt).toBeLessThan(TTL_MS + 1_000);
      } finally {
        await server.close();
        await replica.close();
      }
    },
  );

  it.runIf(kind === "postgres")(
    "ends a stream on this replica when another replica revokes its token",
    async () => {
      const replica = await createGimo(g.gimo.config, {});
      const server = await listen(replica);
      try {
        const minted = await mint("actions");
        const s = await stream("/ops/events", minted.token);
        const res = await fetch(`${server.url}/ops/tokens/${minted.id}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${g.tokens.admin}` },
        });
        expect(res.status).toBe(200);
        expect(await s.endsWithin(8_000)).toBeLessThan(8_000);
      } finally {
        await server.close();
        await replica.close();
      }
    },
  );

  it("a runner token revoked during a long-poll claim claims nothing", async () => {
    const minted = await g.request("POST", "/ops/tokens", { body: { name: "poll-runner", role: "runner" } });
    const token = minted.body.token as string;
    const register = await g.request("POST", "/ops/runners/register", { token, body: { name: "poller" } });
    expect(register.status).toBe(201);
    const started = Date.now();
    const polling = g.request("POST", "/ops/runs/claim", {
      token,
      body: { runner_id: register.body.runner_id, wait_seconds: 20 },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await g.request("DELETE", `/ops/tokens/${minted.body.id}`)).status).toBe(200);
    const draft = await newDraft();
    const approved = await g.request("POST", `/ops/drafts/${draft}/approve`, { body: { auto_run: true } });
    const claim = await polling;
    expect(claim.status).toBe(401);
    expect(Date.now() - started).toBeLessThan(5_000);
    const run = await g.request("GET", `/ops/runs/${approved.body.run.id}`);
    expect(run.body.status).toBe("queued");
    await g.request("POST", `/ops/runs/${approved.body.run.id}/cancel`, { role: "operator" });
  });
});
