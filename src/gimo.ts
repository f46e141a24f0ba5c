import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { type ServerType, serve } from "@hono/node-server";
import { startChatProgress } from "./app/chat-progress.ts";
import type { AppContext } from "./app/context.ts";
import { EventFeed } from "./app/event-feed.ts";
import { startMaintenance } from "./app/maintenance.ts";
import { createServices, type ServiceOptions, type Services } from "./app/services.ts";
import type { Config } from "./config.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { createIdFactory } from "./core/ids.ts";
import { Redactor } from "./core/redactor.ts";
import { systemPrincipal } from "./core/roles.ts";
import { LocalRunnerApi } from "./embedded/runner-api.ts";
import { createLogger, type Logger } from "./log.ts";
import { createHttpApp } from "./operators/http/app.ts";
import type { HttpApp } from "./operators/http/env.ts";
import { OpenStreams } from "./operators/http/open-streams.ts";
import type { RunHandler } from "./runner/handler.ts";
import { Runner } from "./runner/runner.ts";
import { prepareDataDir } from "./store/data-dir.ts";
import { migrate, openDatabase } from "./store/database.ts";
import { startPgListener } from "./store/pg-listener.ts";
import { Store } from "./store/store.ts";

/**
 * The composition root: config in, a running GIMO out. Nothing else wires ports to services.
 */
export interface Gimo {
  config: Config;
  services: Services;
  app: HttpApp;
  logger: Logger;
  /** The admin token minted at this first start, if one was (print it once). */
  bootstrapToken: string | undefined;
  /** Embedded runners (none unless a run handler was given). */
  runners: Runner[];
  /** Ends every open event stream (the first step of shutdown; `close` does it too). */
  endStreams(): Promise<void>;
  close(): Promise<void>;
}

export interface GimoOptions {
  clock?: Clock;
  logger?: Logger;
  /** Registers this repository as the default project when it is not registered yet. */
  repoPath?: string;
  /** What embedded runners do with a run (built from the services); without one, none starts. */
  runHandler?: (services: Services) => RunHandler;
  /** Services' options: the environment secrets resolve from, provider test seams. */
  services?: ServiceOptions;
}

export async function createGimo(config: Config, options: GimoOptions = {}): Promise<Gimo> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  prepareDataDir(config.dataDir);
  const handle = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
  });
  try {
    await migrate(handle.db);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const store = new Store(handle, clock);
  const listener = handle.connectionString
    ? startPgListener(handle.connectionString, store.bus, (e) =>
        logger.debug("LISTEN connection error", { error: String(e) }),
      )
    : undefined;
  const redactor = new Redactor();
  redactor.onAdd((secret) => logger.addSecret(secret));
  for (const token of Object.values(config.envTokens)) redactor.add(token);
  const ctx: AppContext = { store, clock, ids: createIdFactory(), config, startedAt: clock.now(), redactor };
  const services = createServices(ctx, options.services);
  let bootstrapToken: string | undefined;
  try {
    // A start that cannot go on (the vault's key, a providers file) ends here with one clear
    // message and nothing left open.
    const prepared = await services.credentials.prepare();
    if (prepared.imported.length > 0 || prepared.kept.length > 0)
      logger.info("moved the file vault into the database", {
        imported: prepared.imported.length,
        kept: prepared.kept.length,
      });
    await services.providers.sealStored();
    if (config.providersFile) await services.providers.loadFile(systemPrincipal, config.providersFile);
    await services.credentials.registerKnownSecrets();
    await services.planning.failStale(systemPrincipal);
    bootstrapToken = await services.tokens.ensureAdminToken();
    if (bootstrapToken) redactor.add(bootstrapToken);
    if (options.repoPath) await services.projects.ensureFromRepo(systemPrincipal, options.repoPath);
  } catch (error) {
    await listener?.close();
    await store.close();
    throw error;
  }
  const streams = new OpenStreams();
  const feed = new EventFeed(services.audit, store.bus, logger, { pollMs: store.missedWakeupPollMs });
  const app = createHttpApp({ services, logger, streams, feed });
  const maintenance = await startMaintenance(services, logger, sweepInterval(config.leaseSeconds));
  const chatProgress = startChatProgress(services, logger);
  const runners: Runner[] = [];
  if (options.runHandler && config.embeddedRunners > 0) {
    const runner = new Runner({
      api: new LocalRunnerApi(services),
      handler: options.runHandler(services),
      name: `embedded@${hostname()}`,
      concurrency: config.embeddedRunners,
      logger,
    });
    await runner.start();
    runners.push(runner);
  }
  return {
    config,
    services,
    app,
    logger,
    bootstrapToken,
    runners,
    endStreams: () => streams.endAll(),
    close: async () => {
      // Streams first: a stream still reading when the store closes would fail with a raw stack.
      await streams.endAll();
      await feed.close();
      await Promise.all(runners.map((r) => r.stop(5_000)));
      await services.planning.stop();
      await maintenance.stop();
      await chatProgress.stop();
      await services.integrations.client.close();
      await listener?.close();
      await store.close();
    },
  };
}

/** Sweep expired leases a few times per lease period, at least every 5 s. */
function sweepInterval(leaseSeconds: number): number {
  return Math.max(200, Math.min(5_000, (leaseSeconds * 1000) / 4));
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `gimo.app` on the configured host and port (port 0 picks a free one). */
export function listen(gimo: Gimo): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    try {
      server = serve(
        { fetch: gimo.app.fetch, hostname: gimo.config.host, port: gimo.config.port },
        (info: AddressInfo) => {
          const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
          resolve({
            url: `http://${host}:${info.port}`,
            port: info.port,
            close: async () => {
              await gimo.endStreams(); // they end cleanly, then the connections go
              await new Promise<void>((done) => {
                server.close(() => done());
                (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
              });
            },
          });
        },
      );
      server.once("error", reject);
    } catch (error) {
      reject(error);
    }
  });
}
