import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { GimoClient, GimoClientError } from "../src/client/client.ts";
import type { FetchLike } from "../src/client/http.ts";
import { allRuns, type Fleet, startFleet } from "./support/fleet.ts";
import { samplePlan } from "./support/harness.ts";
import { networkUnavailable } from "./support/netns.ts";
import { privatePostgresUnavailable } from "./support/private-postgres.ts";
import { eventually } from "./support/runs.ts";

/**
 * The fleet under chaos, as a real topology (test/support/fleet.ts): a private PostgreSQL on the
 * machine's bridge address, 2 `gimo serve` replicas and 3 `gimo runner` hosts, each in its own
 * network namespace with its own address; every runner is given both replicas' URLs and fails
 * over between them. While ≥ 1,000 runs are approved and flow (through both replicas):
 *   1. replica A is killed with SIGKILL mid-traffic and restarted;
 *   2. the PostgreSQL cluster is restarted;
 *   3. runner host 0's link is cut for longer than the lease, then restored: its late reports are
 *      refused (409, seen in its log) and the newer attempt of each of those runs stands;
 *   4. replica B is stopped with SIGSTOP past the lease (and past the maintenance lease, so A takes
 *      the sweeping over), then continued.
 * Then: every run ended exactly once in a terminal state (one terminal event each), none was lost,
 * none succeeded twice, every execution was a distinct attempt, the audit chain verifies, and an
 * event stream held open on replica A — reconnecting with Last-Event-ID across A's own death —
 * saw every event, runs created through B included, without a gap.
 *
 * Needs root (namespaces) and initdb/pg_ctl; skipped without them, except in CI (`CI=true`),
 * where it fails. It runs in the disruptive project, alone. The cluster and the network are the
 * test's own and removed in afterAll, whatever happened.
 */
const unavailable = networkUnavailable() ?? privatePostgresUnavailable();
const required = process.env.CI === "true";
if (unavailable && !required) console.warn(`fleet test skipped: ${unavailable}`);

const LEASE_S = 4;
const TOTAL = 1_000;
const RUNS_PER_APPROVAL = 8;
const terminal = new Set(["run.succeeded", "run.failed", "run.cancelled"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unavailable !== undefined && !required)("a fleet across a breaking network", () => {
  let fleet: Fleet | undefined;
  afterAll(async () => {
    await fleet?.close();
  });

  it("2 replicas and 3 runner hosts: ≥ 1,000 runs through kills, a PostgreSQL restart, a cut link and a stall", async () => {
    if (unavailable)
      throw new Error(`CI=true: the fleet test needs namespaces and initdb, but ${unavailable}`);
    const started = Date.now();
    fleet = await startFleet({
      replicas: 2,
      runners: 3,
      serverEnv: { GIMO_LEASE_S: String(LEASE_S), GIMO_RETRY_BASE_S: "0", GIMO_MAX_ATTEMPTS: "30" },
      runnerEnv: { GIMO_TEST_SLEEP_MS: "150", LOG_LEVEL: "warn" },
      // host 0 is the one whose link is cut: longer work, so it holds a run when the cut comes
      runnerEnvFor: (i): Record<string, string> => (i === 0 ? { GIMO_TEST_SLEEP_MS: "1500" } : {}),
    });
    const f = fleet;
    const [A, B] = f.replicas as [Fleet["replicas"][0], Fleet["replicas"][0]];
    const clients = [0, 1].map((i) => f.admin(i, 5_000));

    // ── the event stream on replica A, held for the whole test ─────────────────────────────────
    // Each event is tagged with the connection that carried it and the Last-Event-ID that
    // connection was opened with, so a sequence break can be traced to a reconnect (or not).
    const seen: { id: number; type: string; subject: string; conn: number; resumed: string }[] = [];
    const connections: string[] = [];
    const tagging: FetchLike = (input, init) => {
      connections.push(new Headers(init.headers).get("last-event-id") ?? "-");
      return fetch(input, init);
    };
    const stopStream = new AbortController();
    const stream = (async () => {
      const watcher = new GimoClient({
        baseUrl: f.replicas[0]?.url as string,
        token: f.tokens.admin,
        fetch: tagging,
      });
      for await (const m of watcher.events({ after: 0, signal: stopStream.signal, maxRetries: 10_000 })) {
        const data = m.data as { type: string; subject: string };
        const conn = connections.length;
        seen.push({
          id: m.id as number,
          type: data.type,
          subject: data.subject,
          conn,
          resumed: connections[conn - 1] as string,
        });
      }
    })();

    // ── the producer: drafts approved and runs created through both replicas, paced ─────────────
    const acked = new Map<string, number>(); // run id → the replica that answered its creation
    let chaosDone = false;
    let producerErrors = 0;
    const tryBoth = async <T>(first: number, call: (c: GimoClient) => Promise<T>) => {
      for (let attempt = 0; ; attempt++) {
        const i = (first + attempt) % 2;
        try {
          return { value: await call(clients[i] as GimoClient), replica: i };
        } catch (error) {
          // an answer other than 5xx is final; no answer, or 5xx (PostgreSQL away), is retried
          if (error instanceof GimoClientError && error.status < 500) throw error;
          if (attempt >= 60) throw error;
          await sleep(attempt % 2 === 0 ? 50 : 500);
        }
      }
    };
    const producer = (async () => {
      for (let cycle = 0; (acked.size < TOTAL || !chaosDone) && acked.size < 3 * TOTAL; cycle++) {
        const first = cycle % 2;
        try {
          const draft = await tryBoth(first, (c) =>
            c.createDraft({ prompt: `fleet ${cycle}`, plan: samplePlan() }),
          );
          const approval = await tryBoth(draft.replica, (c) =>
            c.approveDraft(draft.value.id, { auto_run: true }),
          );
          if (approval.value.run) acked.set(approval.value.run.id, approval.replica);
          // more runs of the approved plan, at once, through both replicas
          const more = await Promise.all(
            Array.from({ length: RUNS_PER_APPROVAL - 1 }, (_, k) =>
              tryBoth(approval.replica + k, (c) =>
                c.createRun({ approved_id: approval.value.approved.id, allow_parallel: true }),
              ),
            ),
          );
          for (const run of more) acked.set(run.value.id, run.replica);
        } catch {
          producerErrors++; // e.g. an approval that landed before its answer was lost: 409 on retry
        }
        if (!chaosDone) await sleep(100); // paced while the chaos lasts, so runs flow through all of it
      }
    })();

    const progress = async (n: number) =>
      eventually(async () => seen.filter((e) => e.type === "run.succeeded").length >= n, 120_000, 200);
    await progress(50);
    const log = (what: string) =>
      console.log(`[fleet ${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`);

    // 1. kill -9 replica A in the middle of approvals and claims, and restart it
    log(`kill -9 replica A (${acked.size} runs created)`);
    A.process.child.kill("SIGKILL");
    await sleep(1_000);
    await A.restart();
    log("replica A restarted");
    await progress(seen.filter((e) => e.type === "run.succeeded").length + 50);

    // 2. restart PostgreSQL
    const before = await f.cluster.startedAt();
    log("restarting PostgreSQL");
    await f.cluster.restart();
    expect(await f.cluster.startedAt()).not.toBe(before);
    log("PostgreSQL restarted");
    await progress(seen.filter((e) => e.type === "run.succeeded").length + 50);

    // 3. cut runner host 0's link for longer than the lease while it holds a run, then restore it
    const victim = f.runners[0] as Fleet["runners"][0];
    // A run host 0 has just started (its handler works 1.5 s): the cut comes while it still runs,
    // so its end cannot have been reported before. The handler's log line marks the start.
    const pid = String(victim.process.child.pid);
    const startedHere = () =>
      readFileSync(f.execLog, "utf8")
        .split("\n")
        .filter((l) => l.endsWith(` ${pid}`));
    const already = startedHere().length;
    const held = await eventually(
      async () => {
        const line = startedHere()[already];
        if (!line) return undefined;
        const [id, attempt] = line.split(" ");
        return { id: id as string, attempt: Number(attempt) };
      },
      60_000,
      10,
    );
    await victim.host.linkDown();
    log(`runner host 0 cut off (holding ${held.id} attempt ${held.attempt})`);
    await sleep((LEASE_S * 2 + 2) * 1_000);
    await victim.host.linkUp();
    log("runner host 0 link restored");
    const refused = () => victim.logLines().filter((l) => String(l.msg).startsWith("lease lost"));
    // the run it held was given to a newer attempt while it was away: its late report is refused
    await eventually(async () => refused().some((l) => l.run_id === held.id), 90_000, 200);
    log(`runner host 0 was refused ${refused().length} late report(s) (409)`);

    // 4. SIGSTOP replica B past the lease (and past the maintenance lease), then SIGCONT
    log("SIGSTOP replica B");
    B.process.child.kill("SIGSTOP");
    await sleep(12_000);
    B.process.child.kill("SIGCONT");
    log("SIGCONT replica B");
    chaosDone = true;

    await producer;
    log(`producer done: ${acked.size} runs acknowledged, ${producerErrors} cycles with an error`);
    // ── everything ends ─────────────────────────────────────────────────────────────────────────
    let runs: Awaited<ReturnType<typeof allRuns>> = [];
    for (let done = -1, progressAt = Date.now(); ; ) {
      runs = await allRuns(f.admin(0)).catch(() => runs);
      const now = runs.filter((r) => ["succeeded", "failed", "cancelled"].includes(r.status)).length;
      if (runs.length >= acked.size && now === runs.length) break;
      if (now > done) [done, progressAt] = [now, Date.now()];
      if (Date.now() - progressAt > 90_000)
        throw new Error(`stalled at ${done} of ${runs.length} runs ended`);
      await sleep(1_000);
    }
    const head = await f.admin(0).auditHead();
    await eventually(async () => (seen.at(-1)?.id ?? 0) >= head.seq, 60_000, 100);
    stopStream.abort();
    await stream.catch(() => {});

    // ── the counts ──────────────────────────────────────────────────────────────────────────────
    const byId = new Map(runs.map((r) => [r.id, r]));
    const lost = [...acked.keys()].filter((id) => !byId.has(id));
    const terminalEvents = new Map<string, string[]>();
    for (const e of seen)
      if (terminal.has(e.type))
        terminalEvents.set(e.subject, [...(terminalEvents.get(e.subject) ?? []), e.type]);
    const executions = f.executions();
    const reExecuted = runs.filter((r) => (executions.get(r.id)?.length ?? 0) > 1).length;
    const gaps = seen.filter((e, i) => e.id !== i + 1).length;
    const viaB = [...acked].filter(([, replica]) => replica === 1).map(([id]) => id);
    const queuedOnA = new Set(seen.filter((e) => e.type === "run.queued").map((e) => e.subject));
    const statuses: Record<string, number> = {};
    for (const r of runs) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const counts = {
      runs: runs.length,
      acknowledged: acked.size,
      statuses,
      lost: lost.length,
      re_executed: reExecuted,
      max_attempt: Math.max(...runs.map((r) => r.attempt)),
      refused_409: refused().length,
      events_seen_on_A: seen.length,
      audit_head: head.seq,
      created_via_B: viaB.length,
      stream_connections: connections.length,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(`fleet counts: ${JSON.stringify(counts)}`);
    const firstGap = seen.findIndex((e, i) => e.id !== i + 1);
    if (firstGap >= 0) {
      // what the stream on A delivered around the first event out of sequence, to tell a repeated
      // event from a missing one
      console.log(
        `first event out of sequence on A: ${JSON.stringify(seen.slice(Math.max(0, firstGap - 3), firstGap + 4))}`,
      );
    }

    expect(runs.length).toBeGreaterThanOrEqual(TOTAL);
    expect(lost).toEqual([]);
    expect(statuses).toEqual({ succeeded: runs.length });
    for (const r of runs) {
      // exactly one terminal event, and it is the one success
      expect(terminalEvents.get(r.id), r.id).toEqual(["run.succeeded"]);
      const attempts = executions.get(r.id) ?? [];
      expect(new Set(attempts).size, `${r.id} ran an attempt twice`).toBe(attempts.length);
      expect(attempts, r.id).toContain(r.attempt);
    }
    // the run the cut runner held: a newer attempt stood. Its other refusals (and any elsewhere) are
    // that or a repeated report whose first copy landed before its answer was lost.
    expect(byId.get(held.id)?.attempt).toBeGreaterThan(held.attempt);
    for (const line of refused()) {
      const run = byId.get(String(line.run_id));
      expect(run?.status).toBe("succeeded");
      expect(run?.attempt).toBeGreaterThanOrEqual(Number(line.attempt));
    }
    expect(gaps).toBe(0);
    expect(seen.at(-1)?.id).toBeGreaterThanOrEqual(head.seq);
    expect(viaB.length).toBeGreaterThan(0);
    expect(viaB.filter((id) => !queuedOnA.has(id))).toEqual([]);
    expect((await f.admin(1).verifyAudit()).ok).toBe(true);
  }, 900_000);
});
