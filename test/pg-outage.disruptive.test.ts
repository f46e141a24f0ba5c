import { execFile } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { GimoClient } from "../src/client/client.ts";
import { createTestDatabase, type TestDatabase } from "./support/databases.ts";
import { samplePlan } from "./support/harness.ts";
import {
  kill,
  processTokens,
  type RunnerProcess,
  startRunnerProcess,
  startServerProcess,
} from "./support/processes.ts";
import { createTestRepo } from "./support/repo.ts";
import { eventually } from "./support/runs.ts";

/**
 * PostgreSQL going away under traffic: every backend of GIMO's database terminated, then the
 * PostgreSQL service itself restarted. The server and the runners must reconnect by themselves and
 * lose nothing. Disruptive to anything else using the server, so this file runs alone, after the
 * main suite (see vitest.config.ts).
 */
const run = promisify(execFile);
const cluster = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql")[0] : undefined;
const canRestart = cluster !== undefined && existsSync("/usr/bin/pg_ctlcluster") && process.getuid?.() === 0;

describe.skipIf(!inject("pgAvailable"))("PostgreSQL outages under traffic", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it("survives terminated backends and a restart of the PostgreSQL service", async () => {
    const db: TestDatabase = await createTestDatabase("postgres");
    const repo = await createTestRepo();
    const tokens = processTokens();
    const server = await startServerProcess(db, tokens, {
      repo: repo.path,
      env: { GIMO_LEASE_S: "3", GIMO_RETRY_BASE_S: "0" },
    });
    const execLog = join(db.dataDir, "executions.log");
    writeFileSync(execLog, "");
    const runners: RunnerProcess[] = [0, 1].map(() =>
      startRunnerProcess(server.url, tokens.runner, {
        concurrency: 2,
        env: { GIMO_TEST_EXEC_LOG: execLog, GIMO_TEST_SLEEP_MS: "40" },
      }),
    );
    cleanups.push(async () => {
      await Promise.all(runners.map((r) => kill(r.child)));
      await kill(server.child);
      await db.drop();
      await repo.remove();
    });
    const admin = new GimoClient({ baseUrl: server.url, token: tokens.admin });
    const project = (await admin.listProjects()).items[0]?.id as string;
    await admin.patchProject(project, { max_concurrent_runs: 100 });
    const draft = await admin.createDraft({ prompt: "outage", plan: samplePlan() });
    const approved = await admin.approveDraft(draft.id);
    const total = 120;
    for (let i = 0; i < total; i++)
      await admin.createRun({ approved_id: approved.approved.id, allow_parallel: true });

    const runs = async () => (await admin.listRuns({ limit: 200 })).items;
    await eventually(async () => (await runs()).some((r) => r.status === "succeeded"), 30_000, 100);

    const dbName = new URL(db.databaseUrl as string).pathname.slice(1);
    const terminator = new pg.Client({ connectionString: inject("pgAdminUrl") });
    await terminator.connect();
    for (let i = 0; i < 3; i++) {
      // each round waits for GIMO to have reconnected, then cuts every connection again
      await eventually(
        async () => {
          const killed = await terminator.query(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
            [dbName],
          );
          return (killed.rowCount ?? 0) > 0;
        },
        30_000,
        100,
      ).catch((e) => {
        throw new Error(
          `${e}; server alive: ${server.child.exitCode === null}; output: ${server.output.join("").slice(-3000)}`,
        );
      });
      await new Promise((r) => setTimeout(r, 500));
    }
    await terminator.end();

    if (canRestart) {
      await run("pg_ctlcluster", [cluster as string, "main", "restart"]);
    }

    const finished = await eventually(
      async () => {
        try {
          const all = await runs();
          return all.length === total && all.every((r) => r.status === "succeeded") ? all : undefined;
        } catch {
          return undefined; // the server answers 503 while PostgreSQL is down
        }
      },
      120_000,
      500,
    );
    expect(finished).toHaveLength(total);
    expect((await admin.verifyAudit()).ok).toBe(true);
    const ready = (await fetch(`${server.url}/ready`).then((r) => r.json())) as { ok: boolean };
    expect(ready.ok).toBe(true);
  }, 240_000);
});
