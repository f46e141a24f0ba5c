import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { MAINTENANCE_LEASE } from "../src/app/maintenance.ts";
import { GimoClient } from "../src/client/client.ts";
import { createTestDatabase, type TestDatabase } from "./support/databases.ts";
import { samplePlan } from "./support/harness.ts";
import {
  kill,
  processTokens,
  type RunnerProcess,
  type ServerProcess,
  startRunnerProcess,
  startServerProcess,
} from "./support/processes.ts";
import { createTestRepo } from "./support/repo.ts";
import { eventually } from "./support/runs.ts";

/**
 * Singleton work under a database lease (issue 17): two `gimo serve` replicas on one PostgreSQL
 * database. Only the holder of the `maintenance` lease sweeps expired run leases and runs
 * retention; the other does nothing while the holder lives — seen on each replica's `/metrics`
 * (`gimo_maintenance_passes_total`, `gimo_maintenance_leader`), in the lease row and in who swept
 * an orphaned run — and takes over when the holder is killed with SIGKILL (once its lease, 10 s,
 * runs out); a holder stopped with SIGTERM hands the lease back.
 */

describe.skipIf(!inject("pgAvailable"))("maintenance under a lease on PostgreSQL", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it("one replica runs it while it holds the lease; the other takes over when it dies", async () => {
    const db: TestDatabase = await createTestDatabase("postgres");
    const dataDirB = mkdtempSync(join(tmpdir(), "gimo-replica-b-"));
    const repo = await createTestRepo();
    const tokens = processTokens();
    const servers: ServerProcess[] = [];
    const runners: RunnerProcess[] = [];
    const client = new pg.Client({ connectionString: db.databaseUrl });
    cleanups.push(async () => {
      await client.end().catch(() => {});
      await Promise.all([...runners, ...servers].map((p) => kill(p.child)));
      await db.drop();
      await repo.remove();
      rmSync(dataDirB, { recursive: true, force: true });
    });
    // Run leases of 2 s: a sweep pass every 500 ms, a maintenance lease of 2 s.
    const env = { GIMO_LEASE_S: "2", GIMO_RETRY_BASE_S: "0", LOG_LEVEL: "info" };
    const a = await startServerProcess(db, tokens, { repo: repo.path, env });
    servers.push(a);
    await client.connect();
    const holderPid = async () => {
      const row = await client.query("select holder from leases where name = $1", [MAINTENANCE_LEASE]);
      return Number(String(row.rows[0]?.holder ?? "").split(":")[1]);
    };
    expect(await holderPid()).toBe(a.child.pid);
    const b = await startServerProcess({ ...db, dataDir: dataDirB }, tokens, { env });
    servers.push(b);

    const metric = async (server: ServerProcess, name: string) => {
      const res = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${tokens.admin}` },
      });
      const value = new RegExp(`^${name} (\\d+)`, "m").exec(await res.text())?.[1];
      return Number(value ?? Number.NaN);
    };

    // For several lease periods, A runs pass after pass and B none.
    // (Waits for A's passes, not a fixed time: a loaded machine may slow A's pace.)
    const aBefore = await metric(a, "gimo_maintenance_passes_total");
    await eventually(
      async () => (await metric(a, "gimo_maintenance_passes_total")) >= aBefore + 3,
      60_000,
      200,
    );
    expect(await metric(b, "gimo_maintenance_passes_total")).toBe(0);
    expect(await metric(b, "gimo_maintenance_leader")).toBe(0);
    expect(await metric(a, "gimo_maintenance_leader")).toBe(1);
    expect(await metric(a, "gimo_maintenance_passes_total")).toBeGreaterThanOrEqual(aBefore + 3);
    expect(await holderPid()).toBe(a.child.pid);

    // A run orphaned through B (its runner killed) is swept back to the queue by A, the holder.
    const admin = new GimoClient({ baseUrl: b.url, token: tokens.admin });
    const draft = await admin.createDraft({ prompt: "orphan", plan: samplePlan() });
    const runId = (await admin.approveDraft(draft.id, { auto_run: true })).run?.id as string;
    const orphan = async (attempt: number) => {
      const runner = startRunnerProcess(b.url, tokens.runner, { env: { GIMO_TEST_SLEEP_MS: "600000" } });
      runners.push(runner);
      await eventually(async () => {
        const run = await admin.getRun(runId);
        return run.status === "running" && run.attempt === attempt;
      }, 30_000);
      await kill(runner.child);
      return eventually(async () => {
        const run = await admin.getRun(runId);
        return run.status === "queued" && run.attempt === attempt ? run : undefined;
      }, 30_000);
    };
    await orphan(1);
    const swept = (s: ServerProcess) => s.output.join("").includes("swept expired leases");
    expect(swept(a)).toBe(true);
    expect(swept(b)).toBe(false);
    expect(await metric(b, "gimo_maintenance_passes_total")).toBe(0);

    // A dies without a word; B takes the lease once it expires, and sweeps the next orphan.
    await kill(a.child);
    await eventually(async () => (await metric(b, "gimo_maintenance_leader")) === 1, 30_000);
    expect(await holderPid()).toBe(b.child.pid);
    expect(b.output.join("")).toContain("this replica now runs the singleton work");
    await orphan(2);
    expect(swept(b)).toBe(true);
    expect(await metric(b, "gimo_maintenance_passes_total")).toBeGreaterThan(0);

    // Stopping gracefully hands the lease back at once rather than letting it run out.
    await kill(b.child, "SIGTERM");
    const left = await client.query("select holder from leases where name = $1", [MAINTENANCE_LEASE]);
    expect(left.rows).toEqual([]);
  }, 180_000);
});
