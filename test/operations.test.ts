import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { assertProjectOpen } from "../src/app/projects.ts";
import { loadConfig } from "../src/config.ts";
import { systemPrincipal } from "../src/core/roles.ts";
import { createGimo } from "../src/gimo.ts";
import { createLogger } from "../src/log.ts";
import { migrations } from "../src/store/migrations/index.ts";
import { SchemaTooNewError } from "../src/store/schema-version.ts";
import { createTestDatabase, storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";
import { queueRuns } from "./support/runs.ts";

/**
 * The operations a team needs after the first week (issue 17): retention of finished runs,
 * archived and deleted projects, readiness that names the schema, CORS for a panel elsewhere, and
 * a binary that refuses a database a newer GIMO migrated.
 */
describe.each(storageKinds())("operations (%s)", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: 50 } });
  });
  afterAll(async () => {
    await g?.close();
  });

  /** Claims the next queued run as a runner and ends it with `status`, over HTTP. */
  async function finishNext(status: "succeeded" | "failed"): Promise<string> {
    const { runner_id } = (
      await g.request("POST", "/ops/runners/register", { role: "runner", body: { name: "ops" } })
    ).body;
    const claim = await g.request("POST", "/ops/runs/claim", { role: "runner", body: { runner_id } });
    expect(claim.status, claim.text).toBe(200);
    const { id, attempt } = claim.body.run;
    await g.request("POST", `/ops/runs/${id}/logs`, {
      role: "runner",
      body: { runner_id, attempt, lines: [{ level: "info", msg: "a line to purge" }] },
    });
    const end = await g.request("POST", `/ops/runs/${id}/complete`, {
      role: "runner",
      body:
        status === "succeeded"
          ? { runner_id, attempt, status, result: {} }
          : { runner_id, attempt, status, error: { code: "tests_failed", message: "red" } },
    });
    expect(end.status, end.text).toBe(200);
    return id;
  }

  it("purge: dry run counts, the real one deletes finished runs and their logs, the audit stays whole", async () => {
    const [done] = await queueRuns(g, 1);
    expect(await finishNext("succeeded")).toBe(done);
    const [cancelled] = await queueRuns(g, 1);
    await g.request("POST", `/ops/runs/${cancelled}/cancel`, { role: "operator", body: {} });
    // A finished run that a queued run still waits on is kept, and so is the queued run.
    const [upstream] = await queueRuns(g, 1);
    expect(await finishNext("failed")).toBe(upstream);
    const [waiting] = await queueRuns(g, 1, { dependsOn: [upstream as string] });
    const taskOfDone = (await g.request("GET", `/ops/runs/${done}`)).body.task_id;
    const statusBefore = (await g.request("GET", `/ops/tasks/${taskOfDone}`)).body.status;
    expect(statusBefore).toBe("COMPLETED");

    const none = await g.request("POST", "/ops/purge", { body: { dry_run: true } }); // OPS_RUN_TTL: 30 days
    expect(none.body).toMatchObject({ dry_run: true, runs: 0, log_lines: 0 });
    const dry = await g.request("POST", "/ops/purge", { body: { dry_run: true, older_than_days: 0 } });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body).toMatchObject({ dry_run: true, runs: 2, log_lines: 1 });
    expect((await g.request("GET", `/ops/runs/${done}`)).status).toBe(200); // a dry run deletes nothing

    const eventsBefore = (await g.request("GET", "/ops/audit/verify")).body.checked as number;
    const real = await g.request("POST", "/ops/purge", { body: { older_than_days: 0 } });
    expect(real.body).toMatchObject({ dry_run: false, runs: 2, log_lines: 1 });
    expect((await g.request("GET", `/ops/runs/${done}`)).status).toBe(404);
    expect((await g.request("GET", `/ops/runs/${cancelled}`)).status).toBe(404);
    expect((await g.request("GET", `/ops/runs/${upstream}`)).status).toBe(200);
    expect((await g.request("GET", `/ops/runs/${waiting}`)).body.status).toBe("queued");
    // The task keeps the status its purged run gave it; the events about the run stay and verify.
    expect((await g.request("GET", `/ops/tasks/${taskOfDone}`)).body.status).toBe("COMPLETED");
    const verify = (await g.request("GET", "/ops/audit/verify")).body;
    expect(verify.ok).toBe(true);
    expect(verify.checked).toBeGreaterThan(eventsBefore);
    const runEvents = await g.request("GET", `/ops/audit?subject=${done}&limit=50`);
    expect(runEvents.body.items.map((e: { type: string }) => e.type)).toContain("run.succeeded");
    const purged = await g.request("GET", "/ops/audit?type=retention.purged&limit=5");
    expect(purged.body.items.at(-1).data).toMatchObject({ runs: 2, log_lines: 1 });
    expect(purged.body.items.at(-1).actor).toBe("env:admin");

    // Once nothing waits on it, the upstream run goes too.
    await g.request("POST", `/ops/runs/${waiting}/cancel`, { role: "operator", body: {} });
    const again = await g.request("POST", "/ops/purge", { body: { older_than_days: 0 } });
    expect(again.body.runs).toBe(2);
    expect((await g.request("GET", `/ops/runs/${upstream}`)).status).toBe(404);
  });

  it("purge is admin only and refuses bad input with 400", async () => {
    expect((await g.request("POST", "/ops/purge", { role: "operator", body: {} })).status).toBe(403);
    expect((await g.request("POST", "/ops/purge", { role: "actions", body: {} })).status).toBe(403);
    for (const body of [{ older_than_days: -1 }, { older_than_days: 1.5 }, { dry_run: "yes" }, { nope: 1 }]) {
      const res = await g.request("POST", "/ops/purge", { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it("an archived project takes no new tasks, chats or runs; unarchived it does again", async () => {
    const created = await g.request("POST", "/ops/projects", {
      body: { name: `archive-${kind}`, repo_path: g.repo.path },
    });
    expect(created.status, created.text).toBe(201);
    const project = created.body.id as string;
    const [runnable] = await queueRuns(g, 1, { project });
    const approvedId = (await g.request("GET", `/ops/runs/${runnable}`)).body.approved_id;
    await g.request("POST", `/ops/runs/${runnable}/cancel`, { role: "operator", body: {} });

    const archived = await g.request("POST", `/ops/projects/${project}/archive`);
    expect(archived.status, archived.text).toBe(200);
    expect(archived.body.archived_at).toEqual(expect.any(String));
    expect((await g.request("POST", `/ops/projects/${project}/archive`)).body.error.code).toBe(
      "illegal_transition",
    );
    const task = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "more work", project, plan: samplePlan() },
    });
    expect(task.status, task.text).toBe(409);
    expect(task.body.error.code).toBe("project_archived");
    const chat = await g.request("POST", "/ops/chats", { role: "operator", body: { project } });
    expect(chat.body.error.code).toBe("project_archived");
    const run = await g.request("POST", "/ops/runs", { role: "operator", body: { approved_id: approvedId } });
    expect(run.body.error.code).toBe("project_archived");
    // Still readable, and shown as archived.
    const listed = (await g.request("GET", "/ops/projects?limit=50")).body.items;
    expect(listed.find((p: { id: string }) => p.id === project).archived_at).not.toBeNull();

    expect((await g.request("POST", `/ops/projects/${project}/unarchive`)).status).toBe(200);
    const reopened = await g.request("POST", "/ops/runs", {
      role: "operator",
      body: { approved_id: approvedId },
    });
    expect(reopened.status, reopened.text).toBe(201);
    await g.request("POST", `/ops/runs/${reopened.body.id}/cancel`, { role: "operator", body: {} });
    expect((await g.request("POST", `/ops/projects/${project}/archive`, { role: "operator" })).status).toBe(
      403,
    );
  });

  /**
   * New work in `project` held open inside its transaction, right after the open-project check:
   * `passed` resolves once the check let it through, `seen` with the project's `archived_at` read
   * again after `release()` (or the check's refusal).
   */
  function newWorkHeld(project: string) {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let passed = false;
    const seen = g.gimo.services.ctx.store.write(systemPrincipal, async (w) => {
      await assertProjectOpen(w, project);
      passed = true;
      await gate;
      const row = await w.tx
        .selectFrom("projects")
        .select("archived_at")
        .where("id", "=", project)
        .executeTakeFirst();
      return row?.archived_at ?? null;
    });
    seen.catch(() => {}); // observed by the test
    return { seen, release, passed: () => passed };
  }
  const newProject = async (name: string) => {
    const created = await g.request("POST", "/ops/projects", { body: { name, repo_path: g.repo.path } });
    expect(created.status, created.text).toBe(201);
    return created.body.id as string;
  };
  /** Long enough for a step that does not wait to finish (a few ms): it must still be waiting. */
  const aWhile = () => new Promise((resolve) => setTimeout(resolve, 300));
  /** A new project, new work in it held past its open check, and an archive asked for meanwhile. */
  async function archiveBehindHeldWork(name: string) {
    const project = await newProject(name);
    const first = newWorkHeld(project);
    await vi.waitFor(() => expect(first.passed()).toBe(true));
    const archive = { settled: false, response: g.request("POST", `/ops/projects/${project}/archive`) };
    const settle = () => {
      archive.settled = true;
    };
    archive.response.then(settle, settle);
    await aWhile();
    return { project, first, archive };
  }

  it("an archive waits for new work that saw the project open (the gate held shared)", async () => {
    const { first, archive } = await archiveBehindHeldWork(`archive-race-${kind}`);
    const archivedWhileHeld = archive.settled;
    first.release();
    expect(archivedWhileHeld).toBe(false);
    expect(await first.seen).toBeNull();
    expect((await archive.response).status).toBe(200);
  });

  it("new work that comes while an archive waits queues behind it: a stream of new work cannot starve it", async () => {
    const { project, first, archive } = await archiveBehindHeldWork(`archive-queue-${kind}`);
    const second = newWorkHeld(project);
    await aWhile();
    const secondPassedBeforeArchive = second.passed();
    first.release();
    second.release();
    expect(secondPassedBeforeArchive).toBe(false);
    expect((await archive.response).status).toBe(200);
    await expect(second.seen).rejects.toMatchObject({ code: "project_archived" });
  });

  it("a project is deleted only when nothing references it, and never the default one", async () => {
    const inUse = await g.request("DELETE", `/ops/projects/${g.projectId}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.code).toBe("in_use");
    const withTask = await g.request("POST", "/ops/projects", {
      body: { name: `busy-${kind}`, repo_path: g.repo.path },
    });
    await queueRuns(g, 1, { project: withTask.body.id });
    const busy = await g.request("DELETE", `/ops/projects/${withTask.body.id}`);
    expect(busy.body.error.code).toBe("in_use");
    expect(busy.body.error.message).toMatch(/archive it instead/);

    const empty = await g.request("POST", "/ops/projects", {
      body: { name: `empty-${kind}`, repo_path: g.repo.path },
    });
    expect((await g.request("DELETE", `/ops/projects/${empty.body.id}`, { role: "operator" })).status).toBe(
      403,
    );
    const gone = await g.request("DELETE", `/ops/projects/${empty.body.id}`);
    expect(gone.status, gone.text).toBe(200);
    expect(gone.body).toEqual({ id: empty.body.id, deleted: true });
    expect((await g.request("GET", `/ops/projects/${empty.body.id}`)).status).toBe(404);
    expect((await g.request("DELETE", `/ops/projects/${empty.body.id}`)).status).toBe(404);
    const events = await g.request("GET", `/ops/audit?subject=${empty.body.id}&limit=10`);
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual([
      "project.created",
      "project.deleted",
    ]);
    expect((await g.request("GET", "/ops/audit/verify")).body.ok).toBe(true);
  });

  it("/ready names the schema, the pending migrations and the configured model roles", async () => {
    const ready = await g.request("GET", "/ready", { role: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      ok: true,
      database: kind,
      database_ok: true,
      migrations: { latest: Object.keys(migrations).sort().at(-1), pending: [] },
      providers: { planner: false, executor: false },
    });
  });

  it("a database migrated by a newer GIMO is refused at start, with what to do", async () => {
    const db = await createTestDatabase(kind);
    const config = loadConfig({ GIMO_DATA_DIR: db.dataDir, DATABASE_URL: db.databaseUrl }, { port: 0 });
    const logger = createLogger("silent");
    const first = await createGimo(config, { logger });
    await sql`insert into gimo_migrations (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(
      first.services.ctx.store.db,
    );
    await first.close();
    const refused = await createGimo(config, { logger }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(SchemaTooNewError);
    expect((refused as Error).message).toMatch(/newer GIMO .*9999_from_the_future.*forward-only/);
    await db.drop();
  });
});

describe("CORS (GIMO_CORS_ORIGINS)", () => {
  const preflight = (g: TestGimo, origin: string) =>
    g.request("OPTIONS", "/ops/tasks", {
      role: null,
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
      },
    });

  it("is off by default: no CORS headers for any origin", async () => {
    const g = await startGimo("sqlite");
    try {
      const res = await g.request("GET", "/status", { headers: { origin: "https://panel.example.com" } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(
        (await preflight(g, "https://panel.example.com")).headers.get("access-control-allow-origin"),
      ).toBeNull();
    } finally {
      await g.close();
    }
  });

  it("answers the listed origins only, without credentials", async () => {
    const g = await startGimo("sqlite", {
      corsOrigins: loadConfig({ GIMO_CORS_ORIGINS: "https://panel.example.com, http://localhost:5173" })
        .corsOrigins,
    });
    try {
      const ok = await preflight(g, "https://panel.example.com");
      expect(ok.status).toBe(204);
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://panel.example.com");
      expect(ok.headers.get("access-control-allow-headers")).toMatch(/authorization/);
      expect(ok.headers.get("access-control-allow-credentials")).toBeNull();
      const get = await g.request("GET", "/status", { headers: { origin: "http://localhost:5173" } });
      expect(get.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
      expect(get.headers.get("access-control-expose-headers")).toMatch(/x-correlation-id/);
      const other = await preflight(g, "https://evil.example.net");
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
      // CORS opens nothing the token does not: a cross-origin call without one is still 401.
      expect(
        (
          await g.request("GET", "/ops/tasks", {
            role: null,
            headers: { origin: "https://panel.example.com" },
          })
        ).status,
      ).toBe(401);
    } finally {
      await g.close();
    }
  });

  it("refuses a value that is not an origin", () => {
    for (const bad of ["panel.example.com", "https://panel.example.com/app", "ftp://x", "https://a b"]) {
      expect(() => loadConfig({ GIMO_CORS_ORIGINS: bad }), bad).toThrow(/GIMO_CORS_ORIGINS/);
    }
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ GIMO_CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
  });
});

describe("SQLite durability (GIMO_SQLITE_SYNCHRONOUS)", () => {
  const synchronous = async (g: TestGimo) =>
    (await sql<{ synchronous: number }>`pragma synchronous`.execute(g.gimo.services.ctx.store.db)).rows[0]
      ?.synchronous;

  it("syncs every commit unless told otherwise, and syncs at checkpoints when told normal", async () => {
    const full = await startGimo("sqlite");
    try {
      expect(full.gimo.config.sqliteSynchronous).toBe("full");
      expect(await synchronous(full)).toBe(2); // FULL
    } finally {
      await full.close();
    }
    const normal = await startGimo("sqlite", {
      sqliteSynchronous: loadConfig({ GIMO_SQLITE_SYNCHRONOUS: "Normal" }).sqliteSynchronous,
    });
    try {
      expect(await synchronous(normal)).toBe(1); // NORMAL
      expect((await queueRuns(normal, 1)).length).toBe(1);
    } finally {
      await normal.close();
    }
  });

  it("refuses any other value", () => {
    for (const bad of ["off", "extra", "0"]) {
      expect(() => loadConfig({ GIMO_SQLITE_SYNCHRONOUS: bad }), bad).toThrow(
        /GIMO_SQLITE_SYNCHRONOUS must be full or normal/,
      );
    }
  });
});
