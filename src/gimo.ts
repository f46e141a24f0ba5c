import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import type { AppContext } from "./app/context.ts";
import { createServices, type Services } from "./app/services.ts";
import type { Config } from "./config.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { createIdFactory } from "./core/ids.ts";
import { systemPrincipal } from "./core/roles.ts";
import { createLogger, type Logger } from "./log.ts";
import { createHttpApp, type HttpApp } from "./operators/http/app.ts";
import { migrate, openDatabase } from "./store/database.ts";
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
  close(): Promise<void>;
}

export interface GimoOptions {
  clock?: Clock;
  logger?: Logger;
  /** Registers this repository as the default project when it is not registered yet. */
  repoPath?: string;
}

export async function createGimo(config: Config, options: GimoOptions = {}): Promise<Gimo> {
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const token of Object.values(config.envTokens)) if (token) logger.addSecret(token);
  const clock = options.clock ?? systemClock;
  const handle = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(handle.db);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const store = new Store(handle, clock);
  const ctx: AppContext = { store, clock, ids: createIdFactory(), config, startedAt: clock.now() };
  const services = createServices(ctx);
  const bootstrapToken = await services.tokens.ensureAdminToken();
  if (bootstrapToken) logger.addSecret(bootstrapToken);
  if (options.repoPath) await services.projects.ensureFromRepo(systemPrincipal, options.repoPath);
  const app = createHttpApp({ services, logger });
  return { config, services, app, logger, bootstrapToken, close: () => store.close() };
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
            close: () =>
              new Promise<void>((done) => {
                server.close(() => done());
                (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
              }),
          });
        },
      );
      server.once("error", reject);
    } catch (error) {
      reject(error);
    }
  });
}
