import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GimoClient } from "../../src/client/client.ts";
import type { TestDatabase } from "./databases.ts";
import { createNetwork, type Host, type Network } from "./netns.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.ts";
import {
  kill,
  processTokens,
  type RunnerProcess,
  type ServerProcess,
  startRunnerProcess,
  startServerProcess,
} from "./processes.ts";
import { createTestRepo, type TestRepo } from "./repo.ts";

export { allRuns } from "./runs.ts";

/**
 * A GIMO fleet on one machine (the fleet test and `npm run bench:fleet`): a test network
 * (netns.ts) whose root host runs a private PostgreSQL cluster on the bridge address, `replicas`
 * `gimo serve` processes each in its own namespace (DATABASE_URL to that cluster), and `runners`
 * `gimo runner` hosts each in its own namespace, given every replica's URL (each host's list
 * starts at a different replica) and the test handler (handlers.ts), which appends
 * "<run id> <attempt> <pid>" per execution to one log.
 *
 *   const fleet = await startFleet({ replicas: 2, runners: 3, serverEnv, runnerEnv });
 *   fleet.replicas[0].kill(); await fleet.replicas[0].restart();
 *   await fleet.runnerHosts[0].linkDown(); … await fleet.close();
 */
export interface Replica {
  host: Host;
  url: string;
  process: ServerProcess;
  /** A fresh process on the same host and port (after a kill). */
  restart(): Promise<void>;
}

export interface FleetRunner {
  host: Host;
  process: RunnerProcess;
  /** Its JSON log lines (stderr) so far. */
  logLines(): Record<string, unknown>[];
}

export interface Fleet {
  network: Network;
  cluster: PrivatePostgres;
  replicas: Replica[];
  runners: FleetRunner[];
  tokens: ReturnType<typeof processTokens>;
  execLog: string;
  /** Starts the runner hosts' processes (at once unless `holdRunners`). */
  startRunners(): void;
  /** An admin client on replica `i`. */
  admin(i?: number, timeoutMs?: number): GimoClient;
  /** Executions from the handler's log: run id → attempts (in order). */
  executions(): Map<string, number[]>;
  close(): Promise<void>;
}

export interface FleetOptions {
  replicas: number;
  runners: number;
  serverEnv?: Record<string, string>;
  runnerEnv?: Record<string, string>;
  /** Env for one runner host only (merged over runnerEnv). */
  runnerEnvFor?: (index: number) => Record<string, string>;
  concurrency?: number;
  /** Start no runner process until `startRunners()` (a bench fills the queue first). */
  holdRunners?: boolean;
}

const PORT = 9325;

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  };
  try {
    const network = await createNetwork();
    closers.push(() => network.destroy());
    const cluster = await startPrivatePostgres({
      listen: { address: network.gateway, allow: network.subnet },
    });
    closers.push(() => cluster.stop());
    await cluster.createDatabase("gimo");
    const dataDir = mkdtempSync(join(tmpdir(), "gimo-fleet-"));
    closers.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const repo: TestRepo = await createTestRepo();
    closers.push(() => repo.remove());
    const db: TestDatabase = {
      kind: "postgres",
      databaseUrl: cluster.url("gimo", network.gateway),
      dataDir,
      masterKey: `fleet-${randomBytes(8).toString("hex")}`,
      drop: async () => {},
    };
    const tokens = processTokens();
    const execLog = join(dataDir, "executions.log");
    writeFileSync(execLog, "");

    const replicas: Replica[] = [];
    closers.push(async () => {
      for (const r of replicas) await kill(r.process.child);
    });
    const serverHosts: Host[] = [];
    for (let i = 0; i < opts.replicas; i++) serverHosts.push(await network.addHost(`s${i}`));
    const startReplica = async (i: number) => {
      const host = serverHosts[i] as Host;
      const start = () =>
        startServerProcess(db, tokens, {
          host: host.address,
          port: PORT,
          prefix: host.exec,
          // The first replica registers the repository as the default project; the others find it.
          repo: i === 0 && !replicas[0] ? repo.path : undefined,
          env: opts.serverEnv,
          startTimeoutMs: 120_000, // a fleet's processes start together on a possibly small machine
        });
      const replica: Replica = {
        host,
        url: `http://${host.address}:${PORT}`,
        process: await start(),
        restart: async () => {
          await kill(replica.process.child);
          replica.process = await start();
        },
      };
      replicas[i] = replica;
    };
    // the first one migrates the database and registers the project; the others then start together
    await startReplica(0);
    await Promise.all(serverHosts.slice(1).map((_, k) => startReplica(k + 1)));

    const runners: FleetRunner[] = [];
    closers.push(async () => {
      await Promise.all(runners.map((r) => kill(r.process.child)));
    });
    const runnerHosts: Host[] = [];
    for (let i = 0; i < opts.runners; i++) runnerHosts.push(await network.addHost(`r${i}`));
    const startRunners = () => {
      if (runners.length > 0) return;
      runnerHosts.forEach((host, i) => {
        const urls = replicas.map((_, k) => (replicas[(i + k) % replicas.length] as Replica).url);
        const process = startRunnerProcess(urls.join(","), tokens.runner, {
          concurrency: opts.concurrency ?? 4,
          prefix: host.exec,
          name: `fleet-r${i}`,
          env: { GIMO_TEST_EXEC_LOG: execLog, ...opts.runnerEnv, ...opts.runnerEnvFor?.(i) },
        });
        runners.push({
          host,
          process,
          logLines: () =>
            process.output
              .join("")
              .split("\n")
              .filter((l) => l.startsWith("{"))
              .map((l) => {
                try {
                  return JSON.parse(l) as Record<string, unknown>;
                } catch {
                  return {};
                }
              }),
        });
      });
    };
    if (!opts.holdRunners) startRunners();
    const admin = (i = 0, timeoutMs?: number) =>
      new GimoClient({ baseUrl: (replicas[i] as Replica).url, token: tokens.admin, timeoutMs });
    const project = (await admin().listProjects()).items[0]?.id as string;
    await admin().patchProject(project, { max_concurrent_runs: 100 });
    return {
      network,
      cluster,
      replicas,
      runners,
      tokens,
      execLog,
      admin,
      startRunners,
      executions: () => {
        const byRun = new Map<string, number[]>();
        for (const line of readFileSync(execLog, "utf8").split("\n").filter(Boolean)) {
          const [run, attempt] = line.split(" ");
          byRun.set(run as string, [...(byRun.get(run as string) ?? []), Number(attempt)]);
        }
        return byRun;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
