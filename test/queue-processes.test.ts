import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GimoClient } from "../src/client/client.ts";
import { createTestDatabase, storageKinds, type TestDatabase } from "./support/databases.ts";
import { samplePlan } from "./support/harness.ts";
import {
  exited,
  kill,
  processTokens,
  type RunnerProcess,
  type ServerProcess,
  startRunnerProcess,
  startServerProcess,
} from "./support/processes.ts";
import { createTestRepo, type TestRepo } from "./support/repo.ts";
import { allRuns, eventually } from "./support/runs.ts";

/**
 * The queue under real processes: runners and servers started with the CLI, killed with SIGKILL,
 * paused with SIGSTOP, restarted. Executions are counted from a log every handler appends to.
 */
interface RunView {
  id: string;
  status: string;
  attempt: number;
}

describe.each(storageKinds())("runners in separate processes on %s", (kind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  async function setUp(env: Record<string, string> = {}) {
    const db: TestDatabase = await createTestDatabase(kind);
    const repo: TestRepo = await createTestRepo();
    const tokens = processTokens();
    const serverEnv = { GIMO_LEASE_S: "2", GIMO_RETRY_BASE_S: "0", ...env };
    let server: ServerProcess = await startServerProcess(db, tokens, { repo: repo.path, env: serverEnv });
    const runners: RunnerProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(runners.map((r) => kill(r.child)));
      await kill(server.child);
      await db.drop();
      await repo.remove();
    });
    const admin = () => new GimoClient({ baseUrl: server.url, token: tokens.admin });
    const execLog = join(db.dataDir, "executions.log");
    writeFileSync(execLog, "");
    const project = (await admin().listProjects()).items[0]?.id as string;
    await admin().patchProject(project, { max_concurrent_runs: 100 });
    return {
      db,
      tokens,
      execLog,
      runners,
      admin,
      get server() {
        return server;
      },
      async restartServer() {
        server = await startServerProcess(db, tokens, { port: server.port, env: serverEnv });
      },
      runner(handlerEnv: Record<string, string> = {}, concurrency = 1) {
        const r = startRunnerProcess(server.url, tokens.runner, {
          concurrency,
          env: { GIMO_TEST_EXEC_LOG: execLog, ...handlerEnv },
        });
        runners.push(r);
        return r;
      },
      async queue(n: number): Promise<string[]> {
        const draft = await admin().createDraft({ prompt: "load", plan: samplePlan() });
        const approved = await admin().approveDraft(draft.id);
        const ids: string[] = [];
        for (let i = 0; i < n; i += 25) {
          const batch = await Promise.all(
            Array.from({ length: Math.min(25, n - i) }, () =>
              admin().createRun({ approved_id: approved.approved.id, allow_parallel: true }),
            ),
          );
          ids.push(...batch.map((b) => b.id));
        }
        return ids;
      },
      runs: (): Promise<RunView[]> => allRuns(admin()),
      executions(): Map<string, string[]> {
        const byRun = new Map<string, string[]>();
        for (const line of readFileSync(execLog, "utf8").split("\n").filter(Boolean)) {
          const [run, attempt, pid] = line.split(" ");
          byRun.set(run as string, [...(byRun.get(run as string) ?? []), `${attempt}@${pid}`]);
        }
        return byRun;
      },
    };
  }

  const allDone = (runs: RunView[], n: number) =>
    runs.length === n && runs.every((r) => ["succeeded", "failed", "cancelled"].includes(r.status));

  // Its deadline follows progress instead of a fixed budget: on a loaded 2-CPU machine 1,000 runs
  // can take minutes, so the test fails only when no run finishes for STALL_MS (a stuck queue),
  // and vitest's own timeout is a backstop far above any healthy pace.
  it("1,000 runs, 8 runner processes claiming at once: each run executed exactly once", async () => {
    const STALL_MS = 60_000;
    // A 30 s lease: this test is not about expiry, and a 2 s lease can lapse under load, which
    // would rightly run a run twice and fail the exactly-once check for the wrong reason.
    const s = await setUp({ GIMO_LEASE_S: "30" });
    const ids = await s.queue(1_000);
    for (let i = 0; i < 8; i++) s.runner();
    let runs: RunView[] = [];
    for (let finished = 0, progressAt = Date.now(); !allDone(runs, 1_000); ) {
      await new Promise((r) => setTimeout(r, 500));
      runs = await s.runs();
      const now = runs.filter((r) => ["succeeded", "failed", "cancelled"].includes(r.status)).length;
      if (now > finished) [finished, progressAt] = [now, Date.now()];
      if (Date.now() - progressAt > STALL_MS)
        throw new Error(`no run finished for ${STALL_MS} ms (${finished} of 1,000 done)`);
    }
    expect(runs.every((r) => r.status === "succeeded" && r.attempt === 1)).toBe(true);
    const executions = s.executions();
    expect(executions.size).toBe(1_000);
    for (const id of ids) expect(executions.get(id), id).toHaveLength(1);
    const pids = new Set([...executions.values()].flat().map((e) => e.split("@")[1]));
    expect(pids.size).toBeGreaterThan(1);
  }, 1_800_000);

  it("kill -9 of runner processes mid-run, 50 times: no run lost, attempts counted", async () => {
    const s = await setUp({ GIMO_MAX_ATTEMPTS: "20" });
    await s.queue(60);
    const live: RunnerProcess[] = [];
    for (let i = 0; i < 3; i++) live.push(s.runner({ GIMO_TEST_SLEEP_MS: "400" }));
    for (let k = 0; k < 50; k++) {
      await new Promise((r) => setTimeout(r, 250));
      // Kill while work is in flight (runner processes start slowly on a loaded machine).
      const inFlight = await eventually(
        async () => {
          const all = await s.runs();
          if (allDone(all, 60)) return "done";
          return all.some((r) => r.status === "running") ? "running" : undefined;
        },
        20_000,
        50,
      );
      if (inFlight === "done") break;
      const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0] as RunnerProcess;
      await kill(victim.child, "SIGKILL");
      live.push(s.runner({ GIMO_TEST_SLEEP_MS: "400" }));
    }
    const runs = await eventually(
      async () => {
        const all = await s.runs();
        return allDone(all, 60) ? all : undefined;
      },
      180_000,
      500,
    );
    expect(runs.filter((r) => r.status !== "succeeded")).toEqual([]);
    expect(runs.some((r) => r.attempt > 1)).toBe(true);
    const executions = s.executions();
    for (const run of runs) {
      const attempts = (executions.get(run.id) ?? []).map((e) => Number(e.split("@")[0]));
      // every execution was a distinct attempt: never two runners on the same attempt
      expect(new Set(attempts).size, run.id).toBe(attempts.length);
      expect(Math.max(...attempts), run.id).toBe(run.attempt);
    }
  }, 300_000);

  it("kill -9 of the server mid-traffic, then a restart: no run lost, none stuck running", async () => {
    const s = await setUp();
    await s.queue(150);
    s.runner({ GIMO_TEST_SLEEP_MS: "30" }, 2);
    s.runner({ GIMO_TEST_SLEEP_MS: "30" }, 2);
    await eventually(async () => (await s.runs()).some((r) => r.status === "succeeded"), 30_000, 100);
    await kill(s.server.child, "SIGKILL");
    await new Promise((r) => setTimeout(r, 1_000));
    await s.restartServer();
    const runs = await eventually(
      async () => {
        const all = await s.runs();
        return allDone(all, 150) ? all : undefined;
      },
      120_000,
      500,
    );
    expect(runs.filter((r) => r.status !== "succeeded")).toEqual([]);
    expect((await s.admin().verifyAudit()).ok).toBe(true);
  }, 300_000);

  it("SIGTERM stops a runner gracefully: short work finishes, long work is handed back", async () => {
    const s = await setUp({ GIMO_MAX_ATTEMPTS: "5" });
    const [quick] = await s.queue(1);
    const first = s.runner({ GIMO_TEST_SLEEP_MS: "800" });
    await eventually(
      async () => (await s.runs()).find((r) => r.id === quick && r.status === "running"),
      30_000,
      50,
    );
    first.child.kill("SIGTERM"); // grace is 2 s: the 0.8 s run finishes
    const finished = await eventually(
      async () => (await s.runs()).find((r) => r.id === quick && r.status === "succeeded"),
      10_000,
    );
    expect(finished.attempt).toBe(1);
    await exited(first.child); // it may well have exited already

    const [slow] = await s.queue(1);
    const second = s.runner({ GIMO_TEST_SLEEP_MS: "60000" });
    await eventually(
      async () => (await s.runs()).find((r) => r.id === slow && r.status === "running"),
      30_000,
      50,
    );
    second.child.kill("SIGTERM"); // past the grace the run is interrupted and handed back
    const handedBack = await eventually(
      async () => (await s.runs()).find((r) => r.id === slow && r.status === "queued"),
      15_000,
    );
    expect(handedBack.attempt).toBe(1);
    s.runner({ GIMO_TEST_SLEEP_MS: "0" });
    const done = await eventually(
      async () => (await s.runs()).find((r) => r.id === slow && r.status === "succeeded"),
      30_000,
    );
    expect(done.attempt).toBe(2);
    const runners = await s.admin().listRunners();
    expect(runners.items.filter((r) => r.status === "offline").length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("a runner paused past its lease: its late report gets 409 and the newer attempt stands", async () => {
    const s = await setUp({ GIMO_MAX_ATTEMPTS: "5" });
    const [id] = await s.queue(1);
    const slow = s.runner({ GIMO_TEST_SLEEP_MS: "3000" });
    await eventually(async () => (await s.runs()).find((r) => r.status === "running"), 30_000, 50);
    slow.child.kill("SIGSTOP");
    s.runner({ GIMO_TEST_SLEEP_MS: "0" });
    const done = await eventually(
      async () => (await s.runs()).find((r) => r.id === id && r.status === "succeeded"),
      30_000,
      100,
    );
    expect(done.attempt).toBe(2);
    // The server's own count of 409 answers (its HTTP histogram): none yet, then the paused
    // runner's first fenced call after it wakes (a lease extension or its report) gets one.
    const conflicts = async () => {
      const res = await fetch(`${s.server.url}/metrics`, {
        headers: { authorization: `Bearer ${s.tokens.admin}` },
      });
      const counts = (await res.text()).match(
        /^gimo_http_request_duration_seconds_count\{.*status="409".*\} \d+$/gm,
      );
      return (counts ?? []).reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
    };
    expect(await conflicts()).toBe(0);
    slow.child.kill("SIGCONT");
    await eventually(async () => ((await conflicts()) > 0 ? true : undefined), 30_000, 100);
    const after = (await s.runs()).find((r) => r.id === id);
    expect(after).toMatchObject({ status: "succeeded", attempt: 2 });
    const events = await s.admin().auditEvents({ subject: id, limit: 200 });
    const ends = events.items.filter((e) => e.type === "run.succeeded");
    expect(ends.map((e) => e.data.attempt)).toEqual([2]);
    // Both attempts executed; the paused one may record its execution after the newer one did.
    expect(
      s
        .executions()
        .get(id as string)
        ?.map((e) => e.split("@")[0])
        .sort(),
    ).toEqual(["1", "2"]);
  }, 120_000);
});
