import { execFile, execFileSync } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

/**
 * A PostgreSQL cluster of a test's own: `initdb` in a temp dir, started by `pg_ctl` on a free
 * loopback port with its socket in that dir. A test may terminate its backends, restart it or stop
 * it — never the machine's own PostgreSQL, which other work on the machine is using.
 *
 * initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (every
 * command through `runuser -u postgres --`, the temp dir chowned to it); otherwise to the current
 * user. `stop()` stops it and removes the dir. Trust authentication, superuser `postgres`.
 *
 * `listen` also opens it on another local address (a test network's bridge) to clients of a subnet.
 *
 *   const cluster = await startPrivatePostgres();
 *   const url = await cluster.createDatabase("gimo");
 *   await cluster.terminateBackends("gimo"); await cluster.restart(); await cluster.stop();
 */
export interface PrivatePostgres {
  port: number;
  dir: string;
  /** A URL for `database` on this cluster (default the `postgres` database), at `host` (default loopback). */
  url(database?: string, host?: string): string;
  /** Creates a database and answers its URL. */
  createDatabase(name: string): Promise<string>;
  /** Terminates every backend connected to `database`; answers how many. */
  terminateBackends(database: string): Promise<number>;
  /** When the running postmaster started (changes with every restart). */
  startedAt(): Promise<string>;
  /** A fast shutdown and a start on the same port, waiting until it accepts connections again. */
  restart(): Promise<void>;
  /** Stops it (immediately) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const OWNER = "postgres";

/** Why no private cluster can be started here, or undefined when one can. */
export function privatePostgresUnavailable(): string | undefined {
  const bin = binaries();
  if (!bin) return "initdb and pg_ctl were not found (on PATH or under /usr/lib/postgresql/*/bin)";
  if (isRoot) {
    if (!existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser"))
      return "running as root without runuser";
    if (ownerIds() === undefined) return `running as root and there is no ${OWNER} user to own the cluster`;
  }
  return undefined;
}

export async function startPrivatePostgres(
  opts: { listen?: { address: string; allow: string } } = {},
): Promise<PrivatePostgres> {
  const reason = privatePostgresUnavailable();
  if (reason) throw new Error(`cannot start a private PostgreSQL cluster: ${reason}`);
  const bin = binaries() as { initdb: string; pgCtl: string };
  const dir = mkdtempSync(join(tmpdir(), "gimo-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "postgres.log");
  const ids = isRoot ? ownerIds() : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const asOwner = (command: string, args: string[]) =>
    isRoot ? run("runuser", ["-u", OWNER, "--", command, ...args]) : run(command, args);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await asOwner(bin.pgCtl, ["stop", "-D", data, "-m", "immediate", "-w"]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await asOwner(bin.initdb, [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    const addresses = ["127.0.0.1"];
    if (opts.listen) {
      addresses.push(opts.listen.address);
      appendFileSync(join(data, "pg_hba.conf"), `host all all ${opts.listen.allow} trust\n`);
    }
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = `-p ${port} -k ${dir} -c listen_addresses=${addresses.join(",")}`;
      try {
        await asOwner(bin.pgCtl, ["start", "-D", data, "-l", log, "-w", "-t", "60", "-o", options]);
        break;
      } catch (error) {
        if (attempt >= 3) throw error; // another process took the port between the probe and the start
      }
    }
    const url = (database = "postgres", host = "127.0.0.1") =>
      `postgres://postgres@${host}:${port}/${database}`;
    const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        return await client.query<T>(sql, params);
      } finally {
        await client.end();
      }
    };
    return {
      port,
      dir,
      url,
      createDatabase: async (name) => {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
        await query(`create database ${name}`);
        return url(name);
      },
      terminateBackends: async (database) =>
        (
          await query(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
            [database],
          )
        ).rowCount ?? 0,
      startedAt: async () =>
        String((await query<{ t: Date }>("select pg_postmaster_start_time() as t")).rows[0]?.t.toISOString()),
      restart: async () => {
        await asOwner(bin.pgCtl, ["restart", "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60"]);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function binaries(): { initdb: string; pgCtl: string } | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const versions = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))
    : [];
  dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  for (const d of dirs) {
    if (existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")))
      return { initdb: join(d, "initdb"), pgCtl: join(d, "pg_ctl") };
  }
  return undefined;
}

function ownerIds(): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, OWNER], { encoding: "utf8" }).trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
