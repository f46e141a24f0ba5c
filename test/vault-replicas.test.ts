import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { GimoClient } from "../src/client/client.ts";
import { PlanContent } from "../src/contract/plan.ts";
import { createDemoRepo } from "../src/demo/fixture.ts";
import { DEMO_PLAN, demoModel } from "../src/demo/model-script.ts";
import { type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { createTestDatabase, type TestDatabase } from "./support/databases.ts";
import { kill, processTokens, type ServerProcess, startServerProcess } from "./support/processes.ts";
import { eventually } from "./support/runs.ts";

/**
 * The vault is state every replica shares (issue 17): two `gimo serve` processes on one PostgreSQL
 * database, each with its own data dir, as two hosts would be. A credential provided through
 * replica A is what the executor model receives in a run claimed by replica B's embedded runner —
 * and neither replica ever shows it. Then the start-up rule: GIMO_MASTER_KEY is required with
 * DATABASE_URL once secrets are stored, said in one line, never a stack trace.
 */
const SECRET = "sk-replica-VAULT-SHARED-5f4e3d2c1b0a";

describe.skipIf(!inject("pgAvailable"))("the vault shared by replicas on PostgreSQL", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it("a credential provided on replica A is used by a run claimed through replica B", async () => {
    const db: TestDatabase = await createTestDatabase("postgres");
    const dataDirB = mkdtempSync(join(tmpdir(), "gimo-replica-b-"));
    const repo = await createDemoRepo(join(db.dataDir, "repos"));
    const model: ScriptedModel = await startScriptedModel({ respond: demoModel });
    const tokens = processTokens();
    const servers: ServerProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((s) => kill(s.child, "SIGTERM")));
      await model.close();
      await db.drop();
      rmSync(dataDirB, { recursive: true, force: true });
    });
    // A: the API only. B: its own data dir and an embedded runner — the only runner there is.
    const a = await startServerProcess(db, tokens, { repo: repo.path, env: { LOG_LEVEL: "info" } });
    servers.push(a);
    const b = await startServerProcess({ ...db, dataDir: dataDirB }, tokens, {
      env: { GIMO_EMBEDDED_RUNNERS: "1", GIMO_LEASE_S: "10", LOG_LEVEL: "info" },
    });
    servers.push(b);
    const call = async (server: ServerProcess, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      expect(text).not.toContain(SECRET);
      return { status: res.status, body: JSON.parse(text) };
    };

    // On A: the models, whose key is a reference to a secret nobody has provided yet.
    const provider = {
      type: "openai_compat",
      base_url: model.url,
      model: "scripted-model",
      api_key: "${SHARED_KEY}",
    };
    expect((await call(a, "PUT", "/ops/provider", { planner: provider, executor: provider })).status).toBe(
      200,
    );
    const adminA = new GimoClient({ baseUrl: a.url, token: tokens.admin });
    const project = (await adminA.listProjects()).items[0]?.id as string;
    await adminA.patchProject(project, { test_command: "node calc.test.js" });
    const onA = (await call(a, "GET", "/ops/requests")).body.items;
    const request = onA.find((r: { name: string }) => r.name === "SHARED_KEY");
    expect(request).toMatchObject({ status: "WAITING" });
    // B numbers it the same, whichever replica lists first.
    expect((await call(b, "GET", "/ops/requests")).body.items).toEqual(onA);

    // Provided through A…
    const put = await call(a, "PUT", `/ops/requests/${request.id}`, { value: SECRET });
    expect(put).toMatchObject({ status: 200, body: { id: request.id, status: "PROVIDED", source: "vault" } });
    // …it is PROVIDED on B at once, from the shared vault.
    const onB = (await call(b, "GET", "/ops/requests")).body.items;
    expect(onB.find((r: { name: string }) => r.name === "SHARED_KEY")).toMatchObject({
      id: request.id,
      status: "PROVIDED",
      source: "vault",
    });

    // A run approved on A is claimed by B's embedded runner, whose executor resolves the key.
    const draft = await adminA.createDraft({ prompt: "fix add()", plan: PlanContent.parse(DEMO_PLAN) });
    const approved = await adminA.approveDraft(draft.id, { auto_run: true });
    const runId = approved.run?.id as string;
    const run = await eventually(
      async () => {
        const r = await adminA.getRun(runId);
        return r.status === "succeeded" || r.status === "failed" ? r : undefined;
      },
      120_000,
      250,
    );
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    const runnersB = (await new GimoClient({ baseUrl: b.url, token: tokens.admin }).listRunners()).items;
    expect(runnersB).toHaveLength(1);
    expect(run.runner_id).toBe(runnersB[0]?.id);

    // The model received the secret as its API key on every executor call — from replica B.
    const executorCalls = model.requests.filter((r) => (r.body.tools?.length ?? 0) > 0);
    expect(executorCalls.length).toBeGreaterThanOrEqual(4);
    for (const r of executorCalls) expect(r.headers.authorization).toBe(`Bearer ${SECRET}`);

    // Never in clear: not in either replica's output, the events, or any stored row.
    for (const s of servers) expect(s.output.join("")).not.toContain(SECRET);
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    try {
      const tables = ["vault_secrets", "settings", "events", "projects", "runs", "run_logs"];
      for (const table of tables) {
        const rows = await client.query(`select * from ${table}`);
        expect(JSON.stringify(rows.rows), table).not.toContain(SECRET);
      }
      const vaultRows = await client.query("select name, sealed from vault_secrets");
      expect(vaultRows.rows.map((r) => r.name)).toEqual(["SHARED_KEY"]);
    } finally {
      await client.end();
    }
    expect((await adminA.verifyAudit()).ok).toBe(true);
  }, 180_000);

  it("refuses to start without GIMO_MASTER_KEY once secrets are stored, in one line, no stack trace", async () => {
    const db: TestDatabase = await createTestDatabase("postgres");
    const tokens = processTokens();
    const servers: ServerProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((s) => kill(s.child, "SIGTERM")));
      await db.drop();
    });
    // Without a key and nothing stored, it starts, and storing a secret is a clear 503.
    const keyless = await startServerProcess(db, tokens, { env: { GIMO_MASTER_KEY: "" } });
    servers.push(keyless);
    const put = await fetch(`${keyless.url}/ops/provider`, {
      method: "PUT",
      headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ planner: { type: "openai_compat", model: "m", api_key: SECRET } }),
    });
    expect(put.status).toBe(503);
    const refused = (await put.json()) as { error: { code: string; message: string } };
    expect(refused.error.code).toBe("unavailable");
    expect(refused.error.message).toMatch(/GIMO_MASTER_KEY is not set/);
    expect(JSON.stringify(refused)).not.toContain(SECRET);
    await kill(keyless.child, "SIGTERM");

    // With the key, a literal key is stored sealed…
    const keyed = await startServerProcess(db, tokens);
    servers.push(keyed);
    const stored = await fetch(`${keyed.url}/ops/provider`, {
      method: "PUT",
      headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ planner: { type: "openai_compat", model: "m", api_key: SECRET } }),
    });
    expect(stored.status).toBe(200);
    await kill(keyed.child, "SIGTERM");

    // …and a replica without the key, or with another one, refuses to start, saying what to do.
    for (const [key, message] of [
      [
        "",
        /gimo: GIMO_MASTER_KEY is required with DATABASE_URL once secrets are stored, and there are: 1 sealed secret\(s\) in the configuration/,
      ],
      ["not-the-key", /gimo: GIMO_MASTER_KEY does not match the key the database's secrets were stored with/],
    ] as const) {
      const failed = await startServerProcess(db, tokens, { env: { GIMO_MASTER_KEY: key } }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(failed).toMatch(/server exited with 1/);
      expect(failed).toMatch(message);
      expect(failed).not.toMatch(/\n\s+at /); // no stack trace
      expect(failed).not.toContain(SECRET);
    }
  }, 120_000);
});
