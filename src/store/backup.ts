import { execFile } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { Kysely, sql } from "kysely";
import { FILE_MODE } from "./data-dir.ts";
import { openDatabase, redactUrl } from "./database.ts";
import { verifyChain } from "./event-log.ts";
import { migrations } from "./migrations/index.ts";
import type { Database } from "./schema.ts";
import { appliedMigrations, SchemaTooNewError } from "./schema-version.ts";
import { openSqlite } from "./sqlite-dialect.ts";

/**
 * Backups and restores of GIMO's database, for `gimo backup FILE` and `gimo restore FILE`.
 *
 * SQLite: the backup is `VACUUM INTO` from a read-only connection — one read transaction, so the
 * copy is consistent while the server keeps writing (WAL readers never block the writer), and
 * it is a plain SQLite file (0600: it holds token hashes and sealed secrets). A restore copies the
 * file beside the live database, checks it (a SQLite file, `integrity_check`, a GIMO schema this
 * binary knows, an audit chain that verifies — or `force`) and only then swaps it in; the database it replaces
 * is kept beside it (`<file>.before-restore-<time>`, with its -wal), so a restore loses nothing.
 * It refuses while a `gimo serve` holds the data dir (server.pid names a live process).
 *
 * PostgreSQL: `pg_dump --format=custom` and `pg_restore` (PostgreSQL's client tools must be
 * installed). The password travels in PGPASSWORD, never on a command line. A restore refuses
 * while other sessions use the database (stop every replica first), refuses a database that
 * already holds GIMO unless `force` (then `--clean`), reads the backup's migration list before
 * touching anything, restores in one transaction, and verifies the chain afterwards.
 *
 * Neither backup holds the vault key: keep GIMO_MASTER_KEY (or `<data dir>/vault.key`) apart.
 */
export interface BackupTarget {
  databaseUrl: string | undefined;
  dataDir: string;
}

export interface BackupSummary {
  kind: "sqlite" | "postgres";
  file: string;
  bytes: number;
  /** The newest migration the backup's schema carries. */
  schema: string;
  events: number;
}

export interface RestoreSummary extends BackupSummary {
  /** SQLite: where the replaced database was kept. */
  previous: string | undefined;
  audit: { ok: boolean; checked: number; reason?: string | undefined };
}

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

const run = promisify(execFile);

export async function backupDatabase(target: BackupTarget, file: string): Promise<BackupSummary> {
  if (existsSync(file) && statSync(file).size > 0)
    throw new BackupError(`${file} exists: choose a new file name (a backup never overwrites)`);
  const handle = openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir });
  try {
    if (handle.kind === "sqlite") {
      await handle.close();
      return backupSqlite(handle.location, file);
    }
    const facts = await databaseFacts(handle.db);
    await handle.close();
    closeSync(openSync(file, "w", FILE_MODE)); // pg_dump keeps the mode of a file that exists
    await pgTool("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", `--file=${file}`], target);
    return { kind: "postgres", file, bytes: statSync(file).size, ...facts };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

function backupSqlite(live: string, file: string): BackupSummary {
  if (!existsSync(live)) throw new BackupError(`no database at ${live}: nothing to back up`);
  const source = new DatabaseSync(live, { readOnly: true });
  try {
    closeSync(openSync(file, "w", FILE_MODE));
    source.exec(`vacuum into '${file.replaceAll("'", "''")}'`);
  } catch (error) {
    rmSync(file, { force: true });
    throw error;
  } finally {
    source.close();
  }
  const copy = new DatabaseSync(file, { readOnly: true });
  try {
    const schema = copy.prepare("select max(name) as name from gimo_migrations").get() as { name: string };
    const events = copy.prepare("select count(*) as n from events").get() as { n: number };
    return {
      kind: "sqlite",
      file,
      bytes: statSync(file).size,
      schema: schema.name,
      events: Number(events.n),
    };
  } finally {
    copy.close();
  }
}

export async function restoreDatabase(
  target: BackupTarget,
  file: string,
  options: { force?: boolean } = {},
): Promise<RestoreSummary> {
  if (!existsSync(file)) throw new BackupError(`no such file: ${file}`);
  const url = target.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) return restorePostgres(target, file, options.force === true);
  const handle = openDatabase({ databaseUrl: url, dataDir: target.dataDir });
  await handle.close();
  return restoreSqlite(handle.location, target.dataDir, file, options.force === true);
}

async function restoreSqlite(
  live: string,
  dataDir: string,
  file: string,
  force: boolean,
): Promise<RestoreSummary> {
  if (readFileSync(file).subarray(0, 16).toString("latin1") !== "SQLite format 3\0")
    throw new BackupError(`${file} is not a SQLite database (a PostgreSQL backup needs DATABASE_URL)`);
  const server = runningServer(dataDir);
  if (server !== undefined)
    throw new BackupError(`gimo serve (pid ${server}) is using ${dataDir}: stop it before restoring`);
  const staged = `${live}.restoring`;
  rmSync(staged, { force: true });
  copyFileSync(file, staged);
  const db = new Kysely<Database>({ dialect: openSqlite(staged) });
  let summary: Omit<RestoreSummary, "previous">;
  try {
    const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
    if (rows[0]?.integrity_check !== "ok")
      throw new BackupError(`${file} is damaged: integrity_check says ${rows[0]?.integrity_check}`);
    summary = { kind: "sqlite", file, bytes: statSync(file).size, ...(await checkRestored(db, file)) };
    if (!summary.audit.ok && !force)
      throw new BackupError(
        `the backup's audit chain does not verify (${summary.audit.reason}): restore refused, nothing changed (--force restores it anyway)`,
      );
  } catch (error) {
    await db.destroy();
    rmSync(staged, { force: true });
    throw error;
  }
  await db.destroy();
  let previous: string | undefined;
  if (existsSync(live) && statSync(live).size > 0) {
    previous = `${live}.before-restore-${new Date().toISOString().replaceAll(":", "-")}`;
    renameSync(live, previous);
    for (const side of ["-wal", "-shm"]) {
      if (existsSync(live + side)) renameSync(live + side, previous + side);
    }
  }
  renameSync(staged, live);
  return { ...summary, previous };
}

async function restorePostgres(target: BackupTarget, file: string, force: boolean): Promise<RestoreSummary> {
  const listed = await pgTool("pg_restore", ["--list", file], target).catch(() => {
    throw new BackupError(
      `${file} is not a pg_dump custom-format backup (a SQLite backup needs no DATABASE_URL)`,
    );
  });
  if (!/gimo_migrations/.test(listed))
    throw new BackupError(`${file} is not a GIMO backup (no gimo_migrations)`);
  const data = await pgTool(
    "pg_restore",
    ["--data-only", "--table=gimo_migrations", "--file=-", file],
    target,
  );
  const names = [...data.matchAll(/^(\d{4}_[a-z0-9_]+)\t/gm)].map((m) => m[1] as string);
  const unknown = names.filter((n) => !(n in migrations)).sort();
  if (unknown.length > 0) throw new SchemaTooNewError(unknown);

  const handle = openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, poolSize: 1 });
  try {
    const { rows: others } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()`.execute(handle.db);
    if ((others[0]?.n ?? 0) > 0)
      throw new BackupError(
        `${others[0]?.n} other session(s) use ${handle.location}: stop every gimo serve and runner first`,
      );
    const existing = await appliedMigrations(handle.db as Kysely<unknown>);
    if (existing.length > 0 && !force)
      throw new BackupError(
        `${handle.location} already holds a GIMO database: restore into an empty database, or pass --force to replace it`,
      );
  } finally {
    await handle.close();
  }
  const args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"];
  if (force) args.push("--clean", "--if-exists");
  await pgTool("pg_restore", [...args, `--dbname=${pgConnection(target).database}`, file], target);
  const after = openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, poolSize: 1 });
  try {
    return {
      kind: "postgres",
      file,
      bytes: statSync(file).size,
      previous: undefined,
      ...(await checkRestored(after.db, file)),
    };
  } finally {
    await after.close();
  }
}

/** What a restored (or staged) database holds, and whether its audit chain verifies. */
async function checkRestored(
  db: Kysely<Database>,
  file: string,
): Promise<{ schema: string; events: number; audit: RestoreSummary["audit"] }> {
  const applied = await appliedMigrations(db as Kysely<unknown>);
  if (applied.length === 0) throw new BackupError(`${file} is not a GIMO backup (no migrations recorded)`);
  const unknown = applied.filter((n) => !(n in migrations)).sort();
  if (unknown.length > 0) throw new SchemaTooNewError(unknown);
  const result = await verifyChain(db);
  const facts = await databaseFacts(db);
  return {
    ...facts,
    audit: { ok: result.ok, checked: result.checked, reason: result.ok ? undefined : result.reason },
  };
}

async function databaseFacts(db: Kysely<Database>): Promise<{ schema: string; events: number }> {
  const applied = (await appliedMigrations(db as Kysely<unknown>)).sort();
  const row = await db
    .selectFrom("events")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirst();
  return { schema: applied.at(-1) ?? "none", events: Number(row?.n ?? 0) };
}

/** The pid of a live `gimo serve` on this data dir, from `server.pid` (written by serve). */
export function runningServer(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(`${dataDir}/${SERVER_PID_FILE}`, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === "EPERM" ? pid : undefined;
  }
  return pid;
}

export const SERVER_PID_FILE = "server.pid";

/**
 * DATABASE_URL as PG* variables, so no password appears in a process list. A `host` (or `port`)
 * query parameter wins over the URL's own, as in libpq: `?host=/var/run/postgresql` is the
 * directory of a Unix socket.
 */
export function pgConnection(target: BackupTarget): { env: Record<string, string>; database: string } {
  const url = new URL(target.databaseUrl as string);
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  env.PGHOST =
    url.searchParams.get("host") || decodeURIComponent(url.hostname.replace(/^\[|\]$/g, "")) || "localhost";
  const port = url.searchParams.get("port") || url.port;
  if (port) env.PGPORT = port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  env.PGDATABASE = database;
  const sslmode = url.searchParams.get("sslmode");
  if (sslmode) env.PGSSLMODE = sslmode;
  return { env, database };
}

/** Runs a PostgreSQL client tool against DATABASE_URL; returns its stdout. */
async function pgTool(tool: string, args: string[], target: BackupTarget): Promise<string> {
  try {
    const { stdout } = await run(tool, args, { env: pgConnection(target).env, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { code?: string; stderr?: string };
    if (e.code === "ENOENT")
      throw new BackupError(
        `${tool} is not installed: install PostgreSQL's client tools (Debian: apt-get install postgresql-client), matching the server's major version`,
      );
    throw new BackupError(
      `${tool} failed on ${redactUrl(target.databaseUrl as string)}: ${String(e.stderr ?? error).trim()}`,
    );
  }
}
