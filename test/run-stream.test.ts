import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpRunnerApi } from "../src/runner/http-api.ts";
import { createTestDatabase, storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { exited, processTokens, startServerProcess } from "./support/processes.ts";
import { createTestRepo } from "./support/repo.ts";
import { queueRuns } from "./support/runs.ts";
import { type Frame, openSse } from "./support/sse.ts";

/**
 * `GET /ops/runs/{id}/events` as a person following a run sees it: the run's history first (a
 * late watcher misses nothing), from `Last-Event-ID` when resuming, and the end of the stream
 * after the run's terminal event. And a server stopped with SIGTERM ends its open streams
 * cleanly before it closes its database.
 */
describe.each(storageKinds())("a run's event stream on %s", (kind) => {
  let g: TestGimo;
  let api: HttpRunnerApi;
  let runnerId: string;
  beforeAll(async () => {
    g = await startGimo(kind, { retryBaseSeconds: 0 });
    api = new HttpRunnerApi(g.url, g.tokens.runner);
    runnerId = (await api.register({ name: "stream" })).runner_id;
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: 50 } });
  });
  afterAll(async () => {
    await g?.close();
  });

  const url = (id: string) => `${g.url}/ops/runs/${id}/events`;
  const types = (frames: Frame[]) => frames.map((f) => f.event);
  const lines = (frames: Frame[]) =>
    frames
      .filter((f) => f.event === "run.logs")
      .flatMap((f) => JSON.parse(f.data).lines as { msg: string; step_id: string | null }[]);

  /** Claims the run `id` (the queue may hold others: they are claimed and ended too). */
  async function claim(id: string) {
    for (;;) {
      const claimed = await api.claim(runnerId, 0);
      if (!claimed) throw new Error(`run ${id} was not claimable`);
      const fence = { runId: claimed.run.id, attempt: claimed.run.attempt, runnerId };
      if (claimed.run.id === id) return fence;
      await api.complete(fence, { status: "succeeded" });
    }
  }

  it("replays a finished run's history to a late watcher, log lines and all, then ends", async () => {
    const [id] = (await queueRuns(g, 1)) as [string];
    const fence = await claim(id);
    await api.updateSteps(fence, [{ id: "s1", status: "running" }]);
    await api.appendLogs(fence, [
      { level: "info", msg: "first line", step_id: "s1" },
      { level: "info", msg: "second line", step_id: "s1" },
    ]);
    await api.complete(fence, { status: "succeeded", result: { pushed: false } });

    const late = await openSse(url(id), g.tokens.actions);
    expect(late.status).toBe(200);
    await late.endsWithin(5_000);
    expect(types(late.frames)).toEqual([
      "run.queued",
      "run.started",
      "run.step",
      "run.logs",
      "run.succeeded",
    ]);
    expect(lines(late.frames).map((l) => [l.msg, l.step_id])).toEqual([
      ["first line", "s1"],
      ["second line", "s1"],
    ]);
    const seqs = late.frames.map((f) => Number(f.id));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("follows a live run and ends right after its terminal event", async () => {
    const [id] = (await queueRuns(g, 1)) as [string];
    const s = await openSse(url(id), g.tokens.actions);
    await s.until((f) => types(f).includes("run.queued"), "run.queued");
    expect(s.ended).toBe(false);
    const fence = await claim(id);
    await s.until((f) => types(f).includes("run.started"), "run.started");
    await api.appendLogs(fence, [{ level: "warn", msg: "live line" }]);
    await s.until((f) => lines(f).some((l) => l.msg === "live line"), "the live line");
    expect(s.ended).toBe(false);
    await api.complete(fence, { status: "failed", error: { code: "tests_failed", message: "red" } });
    await s.endsWithin(5_000);
    expect(types(s.frames).at(-1)).toBe("run.failed");
  });

  it("resumes from Last-Event-ID (nothing before it, nothing twice) and a resume past the end ends at once", async () => {
    const [id] = (await queueRuns(g, 1)) as [string];
    const fence = await claim(id);
    await api.appendLogs(fence, [{ level: "info", msg: "one" }]);
    await api.appendLogs(fence, [{ level: "info", msg: "two" }]);
    await api.complete(fence, { status: "succeeded" });
    const all = await openSse(url(id), g.tokens.actions);
    await all.endsWithin(5_000);
    const started = all.frames.find((f) => f.event === "run.started") as Frame;
    const resumed = await openSse(url(id), g.tokens.actions, { "last-event-id": started.id as string });
    await resumed.endsWithin(5_000);
    expect(types(resumed.frames)).toEqual(["run.logs", "run.logs", "run.succeeded"]);
    expect(lines(resumed.frames).map((l) => l.msg)).toEqual(["one", "two"]);
    const last = all.frames.at(-1) as Frame;
    const past = await openSse(url(id), g.tokens.actions, { "last-event-id": last.id as string });
    expect(await past.endsWithin(5_000)).toBeLessThan(2_000);
    expect(past.frames).toEqual([]);
  });

  it("does not end at a terminal event that a later requeue reopened", async () => {
    const [id] = (await queueRuns(g, 1)) as [string];
    const first = await claim(id);
    await api.complete(first, { status: "failed", error: { code: "tests_failed", message: "red" } });
    expect((await g.request("POST", `/ops/runs/${id}/requeue`, { role: "operator" })).status).toBeLessThan(
      300,
    );
    const s = await openSse(url(id), g.tokens.actions);
    await s.until((f) => types(f).includes("run.requeued"), "run.requeued");
    expect(types(s.frames)).toContain("run.failed");
    expect(s.ended).toBe(false);
    const second = await claim(id);
    await api.complete(second, { status: "succeeded" });
    await s.endsWithin(5_000);
    expect(types(s.frames).at(-1)).toBe("run.succeeded");
  });

  it("refuses a Last-Event-ID that is not a seq (400) and an unknown run (404)", async () => {
    const [id] = (await queueRuns(g, 1)) as [string];
    const bad = await openSse(url(id), g.tokens.actions, { "last-event-id": "abc" });
    expect(bad.status).toBe(400);
    bad.close();
    const unknown = await openSse(url("r_01JD0000000000000000000000"), g.tokens.actions);
    expect(unknown.status).toBe(404);
    unknown.close();
    await g.request("POST", `/ops/runs/${id}/cancel`, { role: "operator" });
  });
});

describe.each(storageKinds())("SIGTERM with event streams open on %s", (kind) => {
  it("ends the streams first, then closes the database: no stack trace, exit 0", async () => {
    const db = await createTestDatabase(kind);
    const tokens = processTokens();
    const repo = await createTestRepo();
    const server = await startServerProcess(db, tokens, { repo: repo.path, env: { LOG_LEVEL: "info" } });
    try {
      const headers = { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" };
      // A queued run of a hand-written plan keeps its stream open (no runner: it never ends here).
      const plan = { title: "t", summary: "s", steps: [{ id: "s1", kind: "test", title: "tests" }] };
      const draft = (await (
        await fetch(`${server.url}/ops/drafts`, {
          method: "POST",
          headers,
          body: JSON.stringify({ prompt: "p", plan }),
        })
      ).json()) as { id: string };
      const approved = (await (
        await fetch(`${server.url}/ops/drafts/${draft.id}/approve`, {
          method: "POST",
          headers,
          body: JSON.stringify({ auto_run: true }),
        })
      ).json()) as { run: { id: string } };
      const runStreams = await Promise.all(
        [1, 2, 3].map(() => openSse(`${server.url}/ops/runs/${approved.run.id}/events`, tokens.actions)),
      );
      const all = await openSse(`${server.url}/ops/events?after=0`, tokens.admin);
      for (const s of runStreams) await s.until((f) => f.some((x) => x.event === "run.queued"), "run.queued");
      await all.until((f) => f.some((x) => x.event === "run.queued"), "run.queued");
      server.child.kill("SIGTERM");
      for (const s of [...runStreams, all]) await s.endsWithin(10_000);
      await exited(server.child);
      expect(server.child.exitCode).toBe(0);
      const output = server.output.join("");
      expect(output).not.toMatch(/destroyed|\n\s+at \S+ \(|Error:/);
    } finally {
      server.child.kill("SIGKILL");
      await db.drop();
      await repo.remove();
    }
  });
});
