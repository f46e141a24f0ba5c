import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../src/contract/event.ts";
import { systemPrincipal } from "../src/core/roles.ts";
import { storageKinds } from "./support/databases.ts";
import { emitUncatalogued, samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { type Frame, openSse, type SseClient } from "./support/sse.ts";

/**
 * Event streams carry what their reader may read (SPEC §2): the `actions` role — and `operator`,
 * which may not read tokens or credentials either — gets no token, credential or audit-only
 * events on any stream, live or replayed; an admin gets every event.
 */
const HIDDEN = /^(token|credential|audit)\./;

describe.each(storageKinds())("what each role's event streams carry on %s", (kind) => {
  let g: TestGimo;
  const open: SseClient[] = [];
  beforeAll(async () => {
    g = await startGimo(kind, {}, { uncatalogued: ["audit.note"] });
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(async () => {
    await g?.close();
  });

  const stream = async (path: string, role: "actions" | "operator" | "admin") => {
    const s = await openSse(`${g.url}${path}`, g.tokens[role]);
    expect(s.status).toBe(200);
    open.push(s);
    return s;
  };
  const types = (frames: Frame[]) => frames.map((f) => f.event ?? "");
  const reaches = (seq: number) => (frames: Frame[]) => frames.some((f) => Number(f.id) >= seq);

  /** Token, credential and audit-only events, with an ordinary draft at the end. */
  async function secretHistory(): Promise<{ draftSeq: number }> {
    const put = await g.request("PUT", "/ops/provider", {
      body: { planner: { type: "openai_compat", model: "m", api_key: "${VISIBILITY_KEY}" } },
    });
    expect(put.status).toBe(200);
    const requests = await g.request("GET", "/ops/requests");
    const request = requests.body.items.find((r: { name: string }) => r.name === "VISIBILITY_KEY");
    expect((await g.request("PUT", `/ops/requests/${request.id}`, { body: { value: "v-1" } })).status).toBe(
      200,
    );
    const minted = await g.request("POST", "/ops/tokens", {
      body: { name: `vis-${Date.now()}`, role: "operator" },
    });
    expect(minted.status).toBe(201);
    expect((await g.request("DELETE", `/ops/tokens/${minted.body.id}`)).status).toBe(200);
    await g.gimo.services.ctx.store.write(systemPrincipal, async (w) => {
      emitUncatalogued(w, "audit.note", "audit", { note: "only for the audit trail" });
    });
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "after the secrets", plan: samplePlan() },
    });
    expect(draft.status).toBe(201);
    const log: Event[] = (await g.request("GET", "/ops/audit?limit=200&type=draft.created")).body.items;
    const draftSeq = log.find((e) => e.subject === draft.body.id)?.seq ?? -1;
    return { draftSeq };
  }

  it("live: actions and operator streams skip token, credential and audit-only events; admin's carry all", async () => {
    const start = await g.gimo.services.audit.headSeq();
    const actions = await stream("/ops/events", "actions");
    const operator = await stream("/ops/events", "operator");
    const admin = await stream("/ops/events", "admin");
    const { draftSeq } = await secretHistory();
    const end = await g.gimo.services.audit.headSeq();
    await admin.until(reaches(end), `seq ${end}`);
    for (const s of [actions, operator]) await s.until(reaches(draftSeq), `seq ${draftSeq}`);

    const all = types(admin.frames);
    expect(all).toEqual(
      expect.arrayContaining(["token.created", "token.revoked", "credential.provided", "audit.note"]),
    );
    expect(admin.frames.map((f) => Number(f.id))).toEqual(
      Array.from({ length: end - start }, (_, i) => start + 1 + i),
    );
    for (const s of [actions, operator]) {
      expect(types(s.frames).filter((t) => HIDDEN.test(t))).toEqual([]);
      expect(types(s.frames)).toEqual(all.filter((t) => !HIDDEN.test(t)));
      expect(types(s.frames)).toEqual(expect.arrayContaining(["provider.updated", "draft.created"]));
    }
  });

  it("replayed: a resume from the start carries no hidden event either, and resumes by seq", async () => {
    const { draftSeq } = await secretHistory();
    const end = await g.gimo.services.audit.headSeq();
    const actions = await stream("/ops/events?after=0", "actions");
    const admin = await stream("/ops/events?after=0", "admin");
    await admin.until(reaches(end), `seq ${end}`);
    await actions.until(reaches(draftSeq), `seq ${draftSeq}`);
    expect(types(actions.frames).filter((t) => HIDDEN.test(t))).toEqual([]);
    expect(actions.frames.map((f) => f.id)).toEqual(
      admin.frames.filter((f) => !HIDDEN.test(f.event ?? "")).map((f) => f.id),
    );
    // Resuming from a hidden event's seq skips nothing the reader may see.
    const tokenEvent = admin.frames.find((f) => f.event === "token.created");
    const resumed = await stream(`/ops/events?after=${Number(tokenEvent?.id) - 1}`, "actions");
    await resumed.until(reaches(draftSeq), `seq ${draftSeq}`);
    expect(resumed.frames[0]?.event).not.toMatch(HIDDEN);
    expect(resumed.frames.map((f) => f.id)).toEqual(
      actions.frames.filter((f) => Number(f.id) >= Number(tokenEvent?.id)).map((f) => f.id),
    );
  });

  it("a run's own stream is filtered the same way and still carries the run", async () => {
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "run", plan: samplePlan() },
    });
    const approved = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      role: "operator",
      body: { auto_run: true },
    });
    const runId = approved.body.run.id;
    await g.gimo.services.ctx.store.write(systemPrincipal, async (w) => {
      w.emit("token.created", runId, { name: "a token event about the run's id", role: "admin" });
    });
    await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" });
    const actions = await stream(`/ops/runs/${runId}/events?after=0`, "actions");
    const admin = await stream(`/ops/runs/${runId}/events?after=0`, "admin");
    await admin.until((f) => types(f).includes("run.cancelled"), "run.cancelled");
    await actions.until((f) => types(f).includes("run.cancelled"), "run.cancelled");
    expect(types(admin.frames)).toEqual(["run.queued", "token.created", "run.cancelled"]);
    expect(types(actions.frames)).toEqual(["run.queued", "run.cancelled"]);
  });
});
