import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.ts";
import { LeaseLost } from "../src/runner/api.ts";
import type { RunHandler } from "../src/runner/handler.ts";
import { HttpRunnerApi } from "../src/runner/http-api.ts";
import { Runner } from "../src/runner/runner.ts";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { eventually, queueRuns } from "./support/runs.ts";

describe.each(storageKinds())("the run queue on %s", (kind) => {
  // Two GIMOs. `g` has the default 30 s lease: a claim a test holds while it works cannot lapse
  // under it, however loaded the machine. `lapse` has a 1 s lease and serves only the test of real
  // expiry, which holds nothing (a claim held there can lapse between two calls of a loaded test).
  let g: TestGimo;
  let api: HttpRunnerApi;
  let lapse: TestGimo;
  let lapseApi: HttpRunnerApi;
  beforeAll(async () => {
    [g, lapse] = await Promise.all([
      startGimo(kind, { retryBaseSeconds: 0 }),
      startGimo(kind, { leaseSeconds: 1, retryBaseSeconds: 0 }),
    ]);
    api = new HttpRunnerApi(g.url, g.tokens.runner);
    lapseApi = new HttpRunnerApi(lapse.url, lapse.tokens.runner);
    for (const gimo of [g, lapse])
      await gimo.request("PATCH", `/ops/projects/${gimo.projectId}`, { body: { max_concurrent_runs: 50 } });
  });
  afterAll(async () => {
    await Promise.all([g?.close(), lapse?.close()]);
  });

  const runOf = async (id: string, on: TestGimo = g) =>
    (await on.request("GET", `/ops/runs/${id}`, { role: "actions" })).body;
  // Empties the queue: what it claims it also ends, and what it cannot claim (runs still held by
  // an earlier test's runner, or waiting out a retry backoff) it cancels — else, on `lapse`, the
  // sweeper would put such a run back a moment later, ahead of a test's own runs.
  const drain = async (runnerId: string, on: TestGimo = g) => {
    const via = on === g ? api : lapseApi;
    for (let claimed = await via.claim(runnerId, 0); claimed; claimed = await via.claim(runnerId, 0)) {
      const fence = { runId: claimed.run.id, attempt: claimed.run.attempt, runnerId };
      await via.complete(fence, { status: "succeeded" }).catch((error: unknown) => {
        if (!(error instanceof LeaseLost)) throw error; // else swept already: nothing to end
      });
    }
    for (const status of ["queued", "running"]) {
      const left = await on.request("GET", `/ops/runs?status=${status}&limit=200`, { role: "actions" });
      for (const run of left.body.items as { id: string }[])
        await on.request("POST", `/ops/runs/${run.id}/cancel`, { role: "operator" });
    }
  };

  // Makes a held claim's lease lapse now, as if its runner had stalled past it: the real sweeper
  // then acts on it. (Waiting out a real lease races the test's own calls on a loaded machine.)
  const lapseLease = (id: string) =>
    g.gimo.services.ctx.store.db
      .updateTable("runs")
      .set({ lease_expires_at: new Date(0).toISOString() })
      .where("id", "=", id)
      .execute();

  it("claims nothing when the queue is empty (204) and a queued run when there is one", async () => {
    const { runner_id } = await api.register({ name: "t1" });
    await drain(runner_id);
    const empty = await g.request("POST", "/ops/runs/claim", { role: "runner", body: { runner_id } });
    expect(empty.status).toBe(204);
    const [id] = await queueRuns(g, 1);
    const claimed = await api.claim(runner_id, 0);
    expect(claimed?.run.id).toBe(id);
    expect(claimed?.run.status).toBe("running");
    expect(claimed?.run.attempt).toBe(1);
    expect(claimed?.approved.content_hash).toMatch(/^sha256:/);
    expect(claimed?.project.id).toBe(g.projectId);
    await api.complete(
      { runId: id as string, attempt: 1, runnerId: runner_id },
      { status: "succeeded", result: { pushed: false } },
    );
    expect((await runOf(id as string)).status).toBe("succeeded");
  });

  it("long-polls: a claim waiting on an empty queue gets a run queued a moment later", async () => {
    const { runner_id } = await api.register({ name: "t-long" });
    await drain(runner_id);
    const pending = api.claim(runner_id, 60);
    await new Promise((r) => setTimeout(r, 300));
    const [id] = await queueRuns(g, 1);
    const queued = Date.now();
    const claimed = await pending;
    expect(claimed?.run.id).toBe(id);
    // Woken by the new run, not by the end of its 60 s wait (the margin absorbs a loaded machine).
    expect(Date.now() - queued).toBeLessThan(30_000);
    await api.complete({ runId: id as string, attempt: 1, runnerId: runner_id }, { status: "succeeded" });
  });

  it("fences: a runner that lost its lease gets 409 on every call and changes nothing", async () => {
    const a = (await api.register({ name: "stalled" })).runner_id;
    const b = (await api.register({ name: "fresh" })).runner_id;
    await drain(a);
    const [id] = await queueRuns(g, 1);
    const first = await api.claim(a, 0);
    expect(first?.run.id).toBe(id);
    // `a` stalls past its lease; the sweeper requeues the run; `b` claims attempt 2.
    await lapseLease(id as string);
    const second = await eventually(async () => api.claim(b, 0), 30_000, 100);
    expect(second.run.id).toBe(id);
    expect(second.run.attempt).toBe(2);
    const stale = { runId: id as string, attempt: 1, runnerId: a };
    await expect(api.complete(stale, { status: "succeeded" })).rejects.toBeInstanceOf(LeaseLost);
    await expect(api.extendLease(stale)).rejects.toBeInstanceOf(LeaseLost);
    await expect(api.appendLogs(stale, [{ level: "info", msg: "late" }])).rejects.toBeInstanceOf(LeaseLost);
    const now = await runOf(id as string);
    expect(now.status).toBe("running");
    expect(now.attempt).toBe(2);
    expect(now.runner_id).toBe(b);
    await api.complete({ runId: id as string, attempt: 2, runnerId: b }, { status: "succeeded" });
    expect((await runOf(id as string)).status).toBe("succeeded");
  });

  it("fails a run whose leases keep expiring once max_attempts are spent", async () => {
    const r = (await lapseApi.register({ name: "flaky" })).runner_id;
    await drain(r, lapse);
    const [id] = await queueRuns(lapse, 1);
    // Real expiry: each claim's 1 s lease runs out and the sweeper requeues the run, then fails it.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const claimed = await eventually(async () => lapseApi.claim(r, 0), 30_000, 100);
      expect(claimed.run.attempt).toBe(attempt);
    }
    const failed = await eventually(async () => {
      const run = await runOf(id as string, lapse);
      return run.status === "failed" ? run : undefined;
    }, 30_000);
    expect(failed.error.code).toBe("lease_expired");
    expect(failed.attempt).toBe(3);
  });

  it("a run cancelled while its runner is gone ends cancelled when the lease lapses, not requeued", async () => {
    const r = (await api.register({ name: "vanished" })).runner_id;
    await drain(r);
    const [id] = await queueRuns(g, 1);
    expect((await api.claim(r, 0))?.run.id).toBe(id);
    const res = await g.request("POST", `/ops/runs/${id}/cancel`, { role: "operator" });
    expect(res.body.cancel_requested).toBe(true);
    // The runner never reports again; the sweeper ends the run once its lease lapses.
    await lapseLease(id as string);
    const ended = await eventually(async () => {
      const run = await runOf(id as string);
      return run.status !== "running" ? run : undefined;
    }, 30_000);
    expect(ended.status).toBe("cancelled");
    expect(ended.error.code).toBe("cancelled");
    expect(ended.attempt).toBe(1);
    expect(await api.claim(r, 0)).toBeUndefined();
  });

  it("a retryable failure of a run whose cancellation was requested ends it cancelled", async () => {
    const r = (await api.register({ name: "stopping-while-cancelled" })).runner_id;
    await drain(r);
    const [id] = await queueRuns(g, 1);
    expect((await api.claim(r, 0))?.run.id).toBe(id);
    await g.request("POST", `/ops/runs/${id}/cancel`, { role: "operator" });
    // The runner is stopping and hands the run back before it saw the cancellation.
    const handedBack = {
      status: "failed" as const,
      error: { code: "runner_stopping", message: "handing it back", retryable: true },
    };
    await api.complete({ runId: id as string, attempt: 1, runnerId: r }, handedBack);
    const run = await runOf(id as string);
    expect(run.status).toBe("cancelled");
    expect(run.error.code).toBe("cancelled");
    expect(await api.claim(r, 0)).toBeUndefined();
  });

  it("cancellation reaches a running handler within one heartbeat", async () => {
    let aborted: string | undefined;
    // Counts the lease extensions (the runner's heartbeat on a run) instead of timing them.
    let extensions = 0;
    let extensionsAtAbort = -1;
    const counting = new (class extends HttpRunnerApi {
      override extendLease(fence: Parameters<HttpRunnerApi["extendLease"]>[0]) {
        extensions++;
        return super.extendLease(fence);
      }
    })(g.url, g.tokens.runner);
    const [id] = await queueRuns(g, 1);
    const handler: RunHandler = (job, ctx) =>
      new Promise((resolve) => {
        ctx.log("info", `started ${job.run.id}`);
        ctx.signal.addEventListener("abort", () => {
          aborted = String(ctx.signal.reason);
          extensionsAtAbort = extensions;
          resolve({ status: "failed", error: { code: "aborted", message: "stopped" } });
        });
      });
    const runner = new Runner({
      api: counting,
      handler,
      name: "cancel-me",
      logger: createLogger("silent"),
      claimWaitSeconds: 1,
    });
    await runner.start();
    try {
      await eventually(async () => (await runOf(id as string)).status === "running");
      const res = await g.request("POST", `/ops/runs/${id}/cancel`, { role: "operator" });
      expect(res.body.cancel_requested).toBe(true);
      const extensionsAtAsk = extensions;
      const done = await eventually(async () => {
        const run = await runOf(id as string);
        return run.status === "cancelled" ? run : undefined;
      }, 60_000);
      expect(aborted).toBe("cancelled");
      // The first extension sent after the cancellation (or one already on its way) carried it.
      expect(extensionsAtAbort - extensionsAtAsk).toBeLessThanOrEqual(1);
      expect(done.error.code).toBe("cancelled");
    } finally {
      await runner.stop(1_000);
    }
  });

  it("a step update still in flight when the handler ends lands before the end is reported", async () => {
    await drain((await api.register({ name: "slow-steps-drain" })).runner_id);
    // The first step report is held 500 ms on its way: the handler ends while it is in flight.
    let reportSent: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      reportSent = resolve;
    });
    let held = false;
    const slow = new (class extends HttpRunnerApi {
      override async updateSteps(...args: Parameters<HttpRunnerApi["updateSteps"]>) {
        if (!held) {
          held = true;
          reportSent();
          await new Promise((r) => setTimeout(r, 500));
        }
        return super.updateSteps(...args);
      }
    })(g.url, g.tokens.runner);
    const [id] = await queueRuns(g, 1);
    const handler: RunHandler = async (_job, ctx) => {
      ctx.step({ id: "s1", status: "running" });
      ctx.step({ id: "s1", status: "succeeded" });
      ctx.step({ id: "s2", status: "running" });
      ctx.step({ id: "s2", status: "succeeded" });
      await inFlight; // the flush timer took the updates; end now
      return { status: "succeeded", result: { pushed: false } };
    };
    const runner = new Runner({
      api: slow,
      handler,
      name: "slow-steps",
      logger: createLogger("silent"),
      claimWaitSeconds: 1,
      flushMs: 10,
    });
    await runner.start();
    try {
      const run = await eventually(async () => {
        const r = await runOf(id as string);
        return r.status === "succeeded" ? r : undefined;
      });
      expect(run.steps.map((s: { status: string }) => s.status)).toEqual(["succeeded", "succeeded"]);
      const events = await g.gimo.services.audit.list({ subject: id as string, limit: 100 });
      const types = events.items.map((e) =>
        e.type === "run.step" ? `${e.type}:${e.data.step_id}:${e.data.status}` : e.type,
      );
      expect(types.slice(-2)).toEqual(["run.step:s2:succeeded", "run.succeeded"]);
    } finally {
      await runner.stop(1_000);
    }
  });

  it("runs depends_on chains in order; a failed dependency blocks its dependants", async () => {
    const r = (await api.register({ name: "deps" })).runner_id;
    await drain(r);
    const [a] = await queueRuns(g, 1, { priority: -5 });
    const [b] = await queueRuns(g, 1, { dependsOn: [a as string], priority: 10 });
    const [c] = await queueRuns(g, 1, { dependsOn: [b as string], priority: 10 });
    const order: string[] = [];
    for (;;) {
      const claimed = await api.claim(r, 0);
      if (!claimed) break;
      order.push(claimed.run.id);
      await api.complete(
        { runId: claimed.run.id, attempt: claimed.run.attempt, runnerId: r },
        { status: "succeeded" },
      );
    }
    expect(order).toEqual([a, b, c]);

    const [x] = await queueRuns(g, 1);
    const [y] = await queueRuns(g, 1, { dependsOn: [x as string] });
    const claimedX = await api.claim(r, 0);
    expect(claimedX?.run.id).toBe(x);
    await api.complete(
      { runId: x as string, attempt: 1, runnerId: r },
      { status: "failed", error: { code: "tests_failed", message: "red" } },
    );
    expect(await api.claim(r, 0)).toBeUndefined();
    const blocked = await runOf(y as string);
    expect(blocked.status).toBe("queued");
    expect(blocked.blocked_by).toEqual([{ run_id: x, status: "failed" }]);
    await g.request("POST", `/ops/runs/${y}/cancel`, { role: "operator" });
  });

  it("a retryable failure goes back to the queue; attempts are counted", async () => {
    const r = (await api.register({ name: "retry" })).runner_id;
    await drain(r);
    const [id] = await queueRuns(g, 1);
    const first = await api.claim(r, 0);
    await api.complete(
      { runId: id as string, attempt: first?.run.attempt as number, runnerId: r },
      {
        status: "failed",
        error: { code: "provider_unavailable", message: "down", retryable: true, retry_after_seconds: 0 },
      },
    );
    const again = await eventually(async () => api.claim(r, 0));
    expect(again.run.id).toBe(id);
    expect(again.run.attempt).toBe(2);
    await api.complete({ runId: id as string, attempt: 2, runnerId: r }, { status: "succeeded" });
  });

  it("stores log lines with secrets redacted and serves them after a seq", async () => {
    const r = (await api.register({ name: "logs" })).runner_id;
    await drain(r);
    const [id] = await queueRuns(g, 1);
    const claimed = await api.claim(r, 0);
    const fence = { runId: id as string, attempt: claimed?.run.attempt as number, runnerId: r };
    await api.appendLogs(fence, [
      { level: "info", msg: "one" },
      { level: "warn", msg: `token is ${g.tokens.admin}` },
    ]);
    await api.appendLogs(fence, [{ level: "info", msg: "three" }]);
    const all = await g.request("GET", `/ops/runs/${id}/logs`, { role: "actions" });
    expect(all.body.items.map((l: { seq: number }) => l.seq)).toEqual([1, 2, 3]);
    expect(all.text).not.toContain(g.tokens.admin);
    expect(all.body.items[1].msg).toBe("token is [redacted]");
    const after = await g.request("GET", `/ops/runs/${id}/logs?after=2`, { role: "actions" });
    expect(after.body.items.map((l: { msg: string }) => l.msg)).toEqual(["three"]);
    await api.complete(fence, { status: "succeeded" });
  });

  it("streams a run's log lines over SSE; a reconnect with Last-Event-ID gets every line once", async () => {
    const r = (await api.register({ name: "sse" })).runner_id;
    await drain(r);
    const [id] = await queueRuns(g, 1);
    const claimed = await api.claim(r, 0);
    const fence = { runId: id as string, attempt: claimed?.run.attempt as number, runnerId: r };
    const seen: string[] = [];
    const read = async (lastEventId: string | undefined, until: (n: number) => boolean) => {
      const abort = new AbortController();
      const headers: Record<string, string> = { authorization: `Bearer ${g.tokens.actions}` };
      if (lastEventId) headers["last-event-id"] = lastEventId;
      const res = await fetch(`${g.url}/ops/runs/${id}/events?after=0`, { headers, signal: abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let buffer = "";
      let last = lastEventId;
      while (!until(seen.length)) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += new TextDecoder().decode(value);
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const idLine = frame.match(/^id: (\d+)$/m);
          const data = frame.match(/^data: (.*)$/m);
          if (idLine?.[1]) last = idLine[1];
          if (data?.[1]) {
            const event = JSON.parse(data[1]);
            for (const line of event.lines ?? []) seen.push(line.msg);
          }
          end = buffer.indexOf("\n\n");
        }
      }
      abort.abort();
      return last;
    };
    await api.appendLogs(fence, [
      { level: "info", msg: "a" },
      { level: "info", msg: "b" },
    ]);
    const last = await read(undefined, (n) => n >= 2);
    await api.appendLogs(fence, [{ level: "info", msg: "c" }]);
    await api.appendLogs(fence, [
      { level: "info", msg: "d" },
      { level: "info", msg: "e" },
    ]);
    await read(last, (n) => n >= 5);
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    await api.complete(fence, { status: "succeeded" });
  });

  it("a completion with claim_next claims the next run in the same call; a refused one claims nothing", async () => {
    const r = (await api.register({ name: "chain" })).runner_id;
    await drain(r);
    const [a, b] = await queueRuns(g, 2);
    expect((await api.claim(r, 0))?.run.id).toBe(a);
    const end = (id: string, attempt: number) =>
      g.request("POST", `/ops/runs/${id}/complete`, {
        role: "runner",
        body: { runner_id: r, attempt, status: "succeeded", claim_next: true },
      });
    const first = await end(a as string, 1);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe("succeeded");
    expect(first.body.next.run).toMatchObject({ id: b, status: "running", attempt: 1, runner_id: r });
    expect(first.body.next.approved.content_hash).toMatch(/^sha256:/);
    expect(first.body.next.project.id).toBe(g.projectId);
    expect((await runOf(a as string)).status).toBe("succeeded");
    const last = await end(b as string, 1);
    expect(last.body).toEqual({ status: "succeeded", next: null });

    // A stale report (the lease is gone) and a report in panic mode change nothing and claim nothing.
    const [c] = await queueRuns(g, 1);
    expect((await end(a as string, 1)).status).toBe(409);
    expect((await runOf(c as string)).status).toBe("queued");
    const running = await api.claim(r, 0);
    expect(running?.run.id).toBe(c);
    const [d] = await queueRuns(g, 1);
    await g.request("POST", "/ops/panic", { body: { on: true, reason: "test" } });
    try {
      const refused = await end(c as string, 1);
      expect(refused.body.error.code).toBe("panic_mode");
      expect((await runOf(c as string)).status).toBe("running");
      expect((await runOf(d as string)).status).toBe("queued");
    } finally {
      await g.request("POST", "/ops/panic", { body: { on: false } });
    }
    expect((await end(c as string, 1)).body.next.run.id).toBe(d);
    await api.complete({ runId: d as string, attempt: 1, runnerId: r }, { status: "succeeded" });
    const events = (await g.request("GET", `/ops/audit?subject=${b}&limit=50`)).body.items;
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      "run.queued",
      "run.started",
      "run.succeeded",
    ]);
    expect((await g.request("GET", "/ops/audit/verify")).body.ok).toBe(true);
  });

  it("claims nothing in panic mode", async () => {
    const r = (await api.register({ name: "panic" })).runner_id;
    await drain(r);
    await queueRuns(g, 1);
    await g.request("POST", "/ops/panic", { body: { on: true, reason: "test" } });
    try {
      expect(await api.claim(r, 0)).toBeUndefined();
    } finally {
      await g.request("POST", "/ops/panic", { body: { on: false } });
    }
    const claimed = await api.claim(r, 0);
    expect(claimed).toBeDefined();
    const fence = { runId: claimed?.run.id as string, attempt: claimed?.run.attempt as number, runnerId: r };
    await api.complete(fence, { status: "succeeded" }); // with a 30 s lease, nothing sweeps it away
  });

  it("reports runners and metrics", async () => {
    // Its own runners and runs, so it passes alone (`-t`) as well as after the other tests.
    const here = (await api.register({ name: "metrics-online" })).runner_id;
    const gone = (await api.register({ name: "metrics-gone" })).runner_id;
    await api.heartbeat(gone, true); // stopping gracefully: says goodbye
    await drain(here);
    await queueRuns(g, 2);
    for (const end of [
      { status: "succeeded" as const },
      { status: "failed" as const, error: { code: "tests_failed", message: "red" } },
    ]) {
      const claimed = await api.claim(here, 0);
      expect(claimed).toBeDefined();
      await api.complete({ runId: claimed?.run.id as string, attempt: 1, runnerId: here }, end);
    }
    const runners = await g.request("GET", "/ops/runners", { role: "actions" });
    const byName = new Map(
      runners.body.items.map((r: { name: string; status: string }) => [r.name, r.status]),
    );
    expect(byName.get("metrics-online")).toBe("online");
    expect(byName.get("metrics-gone")).toBe("offline");
    const online = runners.body.items.filter((r: { status: string }) => r.status === "online").length;
    const metrics = await g.request("GET", "/ops/metrics", { role: "actions" });
    expect(metrics.status).toBe(200);
    expect(metrics.body.runners).toEqual({ online, offline: runners.body.items.length - online });
    expect(metrics.body.runs.succeeded).toBeGreaterThan(0);
    expect(metrics.body.fail_rate_last_20).toBeGreaterThan(0);
    const prom = await g.request("GET", "/metrics", { role: "actions" });
    expect(prom.status).toBe(200);
    expect(prom.text).toMatch(/^gimo_runs\{status="succeeded"\} [1-9]/m);
    expect(prom.text).toMatch(/^gimo_claims_total [1-9]/m);
    expect(prom.text).toMatch(/^gimo_run_duration_seconds_count\{status="succeeded"\} [1-9]/m);
    expect(prom.text).toMatch(
      /^gimo_http_request_duration_seconds_count\{method="POST",route="\/ops\/runs\/claim"/m,
    );
    const status = await g.request("GET", "/status", { role: "runner" });
    expect(status.body.runners_online).toBe(online);
  });

  it("ends reported at once, one of them stale: each gets its own answer, and the chain verifies", async () => {
    const r = (await api.register({ name: "group-commit" })).runner_id;
    await drain(r);
    const ids = await queueRuns(g, 12);
    for (const id of ids) expect((await api.claim(r, 0))?.run.id).toBe(id);
    const fence = (id: string, attempt = 1) => ({ runId: id, attempt, runnerId: r });
    // Twelve ends at once: eleven good ones and one with a stale attempt, which must fail alone.
    const [stale, ...good] = ids as [string, ...string[]];
    const ends = await Promise.allSettled([
      api.complete(fence(stale, 2), { status: "succeeded" }),
      ...good.map((id, i) =>
        api.complete(
          fence(id),
          i % 2 ? { status: "succeeded" } : { status: "failed", error: { code: "x", message: "no" } },
        ),
      ),
    ]);
    expect(ends[0]?.status).toBe("rejected");
    expect((ends[0] as PromiseRejectedResult).reason).toBeInstanceOf(LeaseLost);
    expect(ends.slice(1).every((e) => e.status === "fulfilled")).toBe(true);
    expect((await runOf(stale)).status).toBe("running");
    for (const [i, id] of good.entries())
      expect((await runOf(id)).status).toBe(i % 2 ? "succeeded" : "failed");
    await api.complete(fence(stale), { status: "succeeded" });
    const audit = await g.request("GET", "/ops/audit/verify");
    expect(audit.body).toMatchObject({ ok: true });
  });

  it("a project at its limit does not hold back other projects' runs queued behind its own", async () => {
    const r = (await api.register({ name: "head-of-line" })).runner_id;
    await drain(r);
    const busy = await g.request("POST", "/ops/projects", {
      body: { name: "busy", repo_url: "https://example.com/busy.git", max_concurrent_runs: 1 },
    });
    expect(busy.status).toBe(201);
    // 40 runs of the busy project, older and of higher priority than the other project's run.
    const waiting = await queueRuns(g, 40, { project: busy.body.id, priority: 5 });
    const [other] = await queueRuns(g, 1);
    expect((await api.claim(r, 0))?.run.id).toBe(waiting[0]);
    // The busy project is at its limit: the claim walks past its 39 queued runs.
    expect((await api.claim(r, 0))?.run.id).toBe(other);
    expect(await api.claim(r, 0)).toBeUndefined();
    for (const id of waiting.slice(1))
      expect((await g.request("POST", `/ops/runs/${id}/cancel`, { role: "operator" })).status).toBe(200);
    await api.complete({ runId: waiting[0] as string, attempt: 1, runnerId: r }, { status: "succeeded" });
    await api.complete({ runId: other as string, attempt: 1, runnerId: r }, { status: "succeeded" });
  });

  it("admits at most the executor provider's max_concurrent_runs at once, across projects", async () => {
    const r = (await api.register({ name: "provider-limit" })).runner_id;
    await drain(r);
    await g.request("PUT", "/ops/provider", {
      body: {
        executor: {
          type: "openai_compat",
          base_url: "http://127.0.0.1:9/v1",
          model: "m",
          options: { max_concurrent_runs: 1 },
        },
      },
    });
    const [first, second] = await queueRuns(g, 2);
    const claimed = await api.claim(r, 0);
    expect(claimed?.run.id).toBe(first);
    expect(claimed?.executor).toMatchObject({ type: "openai_compat", model: "m" });
    expect(await api.claim(r, 0)).toBeUndefined(); // the provider's one slot is taken
    // Ending the first run frees the slot inside the same transaction that claims the second.
    const next = await api.complete(
      { runId: first as string, attempt: 1, runnerId: r },
      { status: "succeeded" },
      { claimNext: true },
    );
    expect(next?.run.id).toBe(second);
  });
});
