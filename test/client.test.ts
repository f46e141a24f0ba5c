import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GimoClient, GimoClientError, type SseMessage } from "../src/client/client.ts";
import type { RunHandler } from "../src/runner/handler.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * The typed client against a real server: answers parsed by the contract, errors as
 * GimoClientError, a custom fetch used for everything, and a run's event stream that survives a
 * dropped connection — resumed with Last-Event-ID, every event once, in order, ending at the run's
 * terminal event.
 */
const LINES = 40;
const chatty: RunHandler = async (_job, ctx) => {
  for (let i = 1; i <= LINES; i++) {
    ctx.log("info", `line ${i}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { status: "succeeded", result: { pushed: false, commits: [] } };
};

describe("the typed client", () => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo("sqlite", {}, { runHandler: () => chatty });
  }, 60_000);
  afterAll(async () => {
    await g?.close();
  });

  it("types and checks answers, and reports refusals as GimoClientError with status and code", async () => {
    const client = new GimoClient({ baseUrl: g.url, token: g.tokens.operator });
    const draft = await client.createDraft({ prompt: "typed", plan: samplePlan() });
    expect(draft.status).toBe("draft");
    const refused = await client.createRun({ approved_id: draft.id }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GimoClientError);
    expect(refused).toMatchObject({ status: 403, code: "approval_required" });
    const missing = await client.getRun("r_01JD0000000000000000000000").catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: "not_found" });
    expect(await client.whoami()).toEqual({ actor: "env:operator", role: "operator", token_id: null });
  });

  it("uses the custom fetch it is given for every call, and refuses an answer that breaks the contract", async () => {
    const seen: string[] = [];
    const client = new GimoClient({
      baseUrl: g.url,
      token: g.tokens.admin,
      fetch: async (url, init) => {
        seen.push(`${init.method} ${new URL(url).pathname}`);
        if (new URL(url).pathname === "/status") return Response.json({ name: "gimo", version: 1 });
        return fetch(url, init);
      },
    });
    expect((await client.listProjects()).items[0]?.id).toBe(g.projectId);
    const bad = await client.status().catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "invalid_response" });
    expect(seen).toEqual(["GET /ops/projects", "GET /status"]);
  });

  it("follows a run's events across a dropped connection: resumes with Last-Event-ID, nothing lost or repeated", async () => {
    const admin = new GimoClient({ baseUrl: g.url, token: g.tokens.admin });
    const draft = await admin.createDraft({ prompt: "stream", plan: samplePlan() });
    const { run } = await admin.approveDraft(draft.id, { auto_run: true });
    if (!run) throw new Error("no run queued");

    const resumes: (string | null)[] = [];
    const lastSeen: (number | undefined)[] = [];
    const messages: SseMessage[] = [];
    let cut = false;
    const client = new GimoClient({
      baseUrl: g.url,
      token: g.tokens.admin,
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (!url.includes("/events")) return res;
        resumes.push(new Headers(init.headers).get("last-event-id"));
        lastSeen.push(messages.at(-1)?.id);
        if (cut || !res.body) return res;
        cut = true;
        // The first connection breaks right after its first event, as a flaky proxy would.
        const reader = res.body.getReader();
        const broken = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { value, done } = await reader.read();
            if (done) return controller.close();
            controller.enqueue(value);
            if (new TextDecoder().decode(value).includes("id:")) {
              await reader.cancel();
              controller.error(new Error("connection reset"));
            }
          },
        });
        return new Response(broken, { status: res.status, headers: res.headers });
      },
    });
    for await (const m of client.runEvents(run.id, { retryBaseMs: 20 })) messages.push(m);

    expect(resumes.length).toBeGreaterThanOrEqual(2);
    expect(resumes[0]).toBe("0");
    // the second connection resumed after the last event the first one delivered
    expect(lastSeen[1]).toBeGreaterThan(0);
    expect(resumes[1]).toBe(String(lastSeen[1]));
    const ids = messages.map((m) => m.id as number);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(messages.at(-1)?.event).toBe("run.succeeded");
    const lines = messages
      .filter((m) => m.event === "run.logs")
      .flatMap((m) => ((m.data as { lines?: { msg: string }[] }).lines ?? []).map((l) => l.msg))
      .filter((msg) => msg.startsWith("line "));
    expect(lines).toEqual(Array.from({ length: LINES }, (_, i) => `line ${i + 1}`));
  }, 60_000);

  it("takes an `event: error` frame without an id for the end of an answer: never yielded, resumed after the last event", async () => {
    const admin = new GimoClient({ baseUrl: g.url, token: g.tokens.admin });
    const draft = await admin.createDraft({ prompt: "error frame", plan: samplePlan() });
    const { run } = await admin.approveDraft(draft.id, { auto_run: true });
    if (!run) throw new Error("no run queued");
    const resumes: (string | null)[] = [];
    const client = new GimoClient({
      baseUrl: g.url,
      token: g.tokens.admin,
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (!url.includes("/events") || !res.body) return res;
        resumes.push(new Headers(init.headers).get("last-event-id"));
        if (resumes.length > 1) return res;
        // The first answer: its first event, then a failure notice without an id (what hono
        // writes when a stream's callback throws), then the end — as an older server did.
        const reader = res.body.getReader();
        const encoder = new TextEncoder();
        let text = "";
        const notice = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { value, done } = await reader.read();
            if (!done) text += new TextDecoder().decode(value);
            const end = text.indexOf("\n\n");
            if (done || end >= 0) {
              await reader.cancel();
              controller.enqueue(encoder.encode(`${text.slice(0, end + 2)}event: error\ndata: boom\n\n`));
              controller.close();
            }
          },
        });
        return new Response(notice, { status: res.status, headers: res.headers });
      },
    });
    const messages: SseMessage[] = [];
    for await (const m of client.runEvents(run.id, { retryBaseMs: 20 })) messages.push(m);
    expect(messages.filter((m) => m.event === "error" || m.id === undefined)).toEqual([]);
    expect(resumes.length).toBe(2);
    expect(resumes[1]).toBe(String(messages[0]?.id));
    const ids = messages.map((m) => m.id as number);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(messages.at(-1)?.event).toBe("run.succeeded");
  }, 60_000);

  it("gives up on a refused stream at once (401), without retrying", async () => {
    const client = new GimoClient({ baseUrl: g.url, token: "not-a-token" });
    const started = Date.now();
    const error = await (async () => {
      for await (const _ of client.runEvents("r_01JD0000000000000000000000")) {
        // nothing
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
