import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { GimoClient } from "../src/client/client.ts";
import { exitCodes } from "../src/operators/cli/exit-codes.ts";
import { gimo } from "./support/cli.ts";
import { createTestDatabase, storageKinds, type TestDatabase } from "./support/databases.ts";
import { samplePlan } from "./support/harness.ts";
import { kill, processTokens, type ServerProcess, startServerProcess } from "./support/processes.ts";
import { createTestRepo, type TestRepo } from "./support/repo.ts";

/**
 * `gimo backup` and `gimo restore` as a user runs them: the real binary, against the data dir or
 * DATABASE_URL of a real `gimo serve` process. A backup taken while the server writes restores to
 * exactly what it held — later writes gone, earlier ones there — and the restored chain passes
 * `gimo audit verify`. A restore that would lose something or run a newer schema is refused and
 * changes nothing.
 */
describe.each(storageKinds())("backup and restore (%s)", (kind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function serve(db: TestDatabase, repo: TestRepo, tokens: ReturnType<typeof processTokens>) {
    const server = await startServerProcess(db, tokens, { repo: repo.path });
    cleanups.push(() => kill(server.child));
    return server;
  }
  const envFor = (db: TestDatabase, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, GIMO_DATA_DIR: db.dataDir, ...extra };
    if (db.databaseUrl) env.DATABASE_URL = db.databaseUrl;
    else delete env.DATABASE_URL;
    return env;
  };
  /** A new database and repository, removed after the file, and tokens for a server on them. */
  async function fresh() {
    const db = await createTestDatabase(kind);
    const repo = await createTestRepo();
    cleanups.push(async () => {
      await db.drop();
      await repo.remove();
    });
    return { db, repo, tokens: processTokens() };
  }
  async function approvedDraft(client: GimoClient, title: string): Promise<string> {
    const draft = await client.createDraft({ prompt: title, plan: samplePlan(title) as never });
    await client.approveDraft(draft.id);
    return draft.id;
  }

  it("round-trips: backup while serving, restore, start again, audit verify", async () => {
    const { db, repo, tokens } = await fresh();
    let server: ServerProcess = await serve(db, repo, tokens);
    let client = new GimoClient({ baseUrl: server.url, token: tokens.admin });
    const kept = await approvedDraft(client, "Before the backup");
    const file = join(db.dataDir, "..", `gimo-backup-${kind}-${process.pid}-${Date.now()}.bak`);
    cleanups.push(async () => {
      for (const f of [file]) if (existsSync(f)) (await import("node:fs")).rmSync(f);
    });

    const backup = await gimo(["backup", file, "--json"], { env: envFor(db) });
    expect(backup.code, backup.stderr).toBe(0);
    const summary = JSON.parse(backup.stdout);
    expect(summary).toMatchObject({ kind, file, schema: expect.stringMatching(/^\d{4}_/) });
    expect(summary.events).toBeGreaterThan(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await gimo(["backup", file], { env: envFor(db) });
    expect(again.code).toBe(exitCodes.error.code);
    expect(again.stderr).toMatch(/exists: choose a new file name/);

    const lost = await approvedDraft(client, "After the backup");
    if (kind === "sqlite") {
      const busy = await gimo(["restore", file], { env: envFor(db) });
      expect(busy.code).toBe(exitCodes.error.code);
      expect(busy.stderr).toMatch(/gimo serve \(pid \d+\) is using .*stop it before restoring/);
    }
    await kill(server.child, "SIGTERM");

    let target = db;
    if (kind === "postgres") {
      // Over a database that holds GIMO: refused without --force. Into an empty one: restored.
      const refused = await gimo(["restore", file], { env: envFor(db) });
      expect(refused.code).toBe(exitCodes.error.code);
      expect(refused.stderr).toMatch(/already holds a GIMO database.*--force/);
      target = await createTestDatabase("postgres");
      cleanups.push(() => target.drop());
    }
    const restored = await gimo(["restore", file], { env: envFor(target) });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/The audit chain verifies \(\d+ events\)/);
    if (kind === "sqlite") {
      expect(restored.stdout).toMatch(/kept at .*before-restore-/);
      const keptFiles = readdirSync(db.dataDir).filter((f) => f.includes(".before-restore-"));
      expect(keptFiles.length).toBeGreaterThanOrEqual(1); // the replaced database: nothing is lost
    }

    server = await serve(target, repo, tokens);
    client = new GimoClient({ baseUrl: server.url, token: tokens.admin });
    expect((await client.getDraft(kept)).status).toBe("approved");
    await expect(client.getDraft(lost)).rejects.toMatchObject({ status: 404 });
    const verify = await gimo(["audit", "verify"], {
      env: { ...process.env, GIMO_URL: server.url, GIMO_TOKEN: tokens.admin },
    });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/the audit chain holds/);
    await kill(server.child, "SIGTERM");

    if (kind === "postgres") {
      // --force restores over a database that holds GIMO (after every replica stopped).
      const forced = await gimo(["restore", file, "--force"], { env: envFor(db) });
      expect(forced.code, forced.stderr).toBe(0);
    }
  });

  it("refuses a backup from a newer GIMO, a damaged chain and a file that is not a backup — changing nothing", async () => {
    const { db, repo, tokens } = await fresh();
    const server = await serve(db, repo, tokens);
    const client = new GimoClient({ baseUrl: server.url, token: tokens.admin });
    await approvedDraft(client, "Worth keeping");
    await kill(server.child, "SIGTERM");
    const stamp = `${process.pid}-${Date.now()}`;
    const file = join(db.dataDir, "..", `gimo-future-${kind}-${stamp}.bak`);
    cleanups.push(async () => (await import("node:fs")).rmSync(file, { force: true }));

    const notBackup = await gimo(["restore", join(repo.path, "README.md")], { env: envFor(db) });
    expect(notBackup.code).toBe(exitCodes.error.code);
    expect(notBackup.stderr).toMatch(
      kind === "sqlite" ? /not a SQLite database/ : /not a pg_dump custom-format backup/,
    );

    if (kind === "sqlite") {
      expect((await gimo(["backup", file], { env: envFor(db) })).code).toBe(0);
      // A forged middle event: its hash no longer fits the chain.
      const forged = new DatabaseSync(file);
      forged.exec("update events set data = '{\"forged\":true}' where seq = 2");
      forged.close();
      const broken = await gimo(["restore", file], { env: envFor(db) });
      expect(broken.code).toBe(exitCodes.error.code);
      expect(broken.stderr).toMatch(/audit chain does not verify.*nothing changed/);
      expect(readdirSync(db.dataDir).filter((f) => f.includes("before-restore"))).toEqual([]);
      // A newer GIMO's schema.
      const future = new DatabaseSync(file);
      future.exec("insert into gimo_migrations (name, timestamp) values ('9999_future', '2030-01-01')");
      future.close();
    } else {
      const conn = new pg.Client({ connectionString: db.databaseUrl });
      await conn.connect();
      await conn.query("insert into gimo_migrations (name, timestamp) values ('9999_future', '2030-01-01')");
      await conn.end();
      expect((await gimo(["backup", file], { env: envFor(db) })).code).toBe(0);
    }
    const empty = kind === "postgres" ? await createTestDatabase("postgres") : db;
    if (kind === "postgres") cleanups.push(() => empty.drop());
    const newer = await gimo(["restore", file], { env: envFor(empty) });
    expect(newer.code).toBe(exitCodes.incompatible.code);
    expect(newer.stderr).toMatch(/newer GIMO .*9999_future/);
    if (kind === "sqlite") {
      expect(readdirSync(db.dataDir).filter((f) => f.includes("before-restore"))).toEqual([]);
      // The server starts on the database it had: nothing changed.
      const back = await serve(db, repo, tokens);
      expect(
        (await new GimoClient({ baseUrl: back.url, token: tokens.admin }).listDrafts({})).items,
      ).toHaveLength(1);
      await kill(back.child, "SIGTERM");
    } else {
      // The newer schema on the source database also stops `gimo serve` itself, with exit code 14.
      const refused = await gimo(["serve", "--port", "0"], { env: envFor(db), timeoutMs: 30_000 });
      expect(refused.code).toBe(exitCodes.incompatible.code);
      expect(refused.stderr).toMatch(/forward-only/);
    }
  });
});
