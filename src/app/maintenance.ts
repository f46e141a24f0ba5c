import { systemPrincipal } from "../core/roles.ts";
import type { Logger } from "../log.ts";
import type { Services } from "./services.ts";

/**
 * The server's background chores, on one timer:
 *  - the lease sweeper (every `sweepMs`, and once at start — recovering runs whose leases expired
 *    while the server was down);
 *  - hourly: forget idempotency records older than a day, purge finished runs older than
 *    `OPS_RUN_TTL` days with their log lines (retention.ts; their events stay).
 * Each replica runs them; every change they make is a compare-and-swap, so replicas never collide.
 */
export interface Maintenance {
  stop(): Promise<void>;
}

const HOUR_MS = 3_600_000;

export async function startMaintenance(
  services: Services,
  logger: Logger,
  sweepMs: number,
): Promise<Maintenance> {
  const { ctx } = services;
  const sweep = async () => {
    try {
      const moved = await services.queue.sweep(systemPrincipal);
      if (moved > 0) logger.info("swept expired leases", { runs: moved });
    } catch (error) {
      if ((error as { code?: string }).code !== "panic_mode")
        logger.warn("sweep failed", { error: String(error) });
    }
  };
  const tidy = async () => {
    try {
      await services.idempotency.prune();
      const purged = await services.retention.purge(systemPrincipal, {
        olderThanDays: ctx.config.runTtlDays,
        dryRun: false,
      });
      if (purged.runs > 0) logger.info("purged finished runs", { runs: purged.runs, cutoff: purged.cutoff });
    } catch (error) {
      logger.warn("tidy-up failed", { error: String(error) });
    }
  };
  await sweep();
  await tidy();
  let running: Promise<void> = Promise.resolve();
  let lastTidy = Date.now();
  const timer = setInterval(() => {
    running = running.then(async () => {
      await sweep();
      if (Date.now() - lastTidy > HOUR_MS) {
        lastTidy = Date.now();
        await tidy();
      }
    });
  }, sweepMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
