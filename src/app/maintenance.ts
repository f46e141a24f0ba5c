import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { systemPrincipal } from "../core/roles.ts";
import type { Logger } from "../log.ts";
import { releaseLease, takeLease } from "../store/leases.ts";
import type { Services } from "./services.ts";

/**
 * The server's singleton work, on one timer, in one replica at a time:
 *  - the lease sweeper (every `sweepMs`, and once at start — recovering runs whose leases expired
 *    while the server was down);
 *  - hourly retention: forget idempotency records older than a day, purge finished runs older
 *    than `OPS_RUN_TTL` days with their log lines (retention.ts; their events stay).
 *
 * Replicas sharing a database each start this, and each tick first takes (or renews) the
 * `maintenance` lease (store/leases.ts): only its holder does the work. The holder renews it every
 * tick; a holder that dies or stalls loses it after `leaseMs` (three ticks, at least 10 s) and the
 * next replica to tick takes over, running retention at once. Stopping releases it, so a
 * graceful restart hands over without waiting. On SQLite there is one process and it always holds
 * the lease. The work itself stays compare-and-swap, so even a holder that stalled past its lease
 * and woke up next to the new one cannot corrupt anything — the lease is about doing the work
 * once, not about safety.
 *
 * `gimo_maintenance_leader` (1 while this replica holds the lease) and
 * `gimo_maintenance_passes_total` (passes it ran) show on `/metrics` which replica does the work.
 */
export interface Maintenance {
  stop(): Promise<void>;
}

export interface MaintenanceOptions {
  /** The lease holder's name (default host:pid:random). */
  holder?: string;
  /** How long the lease lasts without renewal (default: 3 × sweepMs, at least 10 s). */
  leaseMs?: number;
}

export const MAINTENANCE_LEASE = "maintenance";
const HOUR_MS = 3_600_000;

export async function startMaintenance(
  services: Services,
  logger: Logger,
  sweepMs: number,
  options: MaintenanceOptions = {},
): Promise<Maintenance> {
  const { ctx, prometheus } = services;
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const leaseMs = options.leaseMs ?? Math.max(10_000, 3 * sweepMs);
  let leader = false;
  let lastTidy = 0;

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
  const holdLease = async (): Promise<boolean> => {
    let held = false;
    try {
      held = await takeLease(ctx.store.db, MAINTENANCE_LEASE, holder, leaseMs);
    } catch (error) {
      logger.warn("cannot take the maintenance lease", { error: String(error) });
    }
    if (held !== leader) {
      logger.info(
        held ? "this replica now runs the singleton work" : "another replica runs the singleton work",
        {
          lease: MAINTENANCE_LEASE,
          holder,
        },
      );
      leader = held;
      prometheus.maintenanceLeader.set(held ? 1 : 0);
    }
    return held;
  };
  const pass = async () => {
    if (!(await holdLease())) return;
    await sweep();
    // A new holder tidies at once: the last one may have died just before its hourly turn.
    if (Date.now() - lastTidy > HOUR_MS) {
      lastTidy = Date.now();
      await tidy();
    }
    prometheus.maintenancePasses.inc();
  };

  await pass();
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(pass);
  }, sweepMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      if (leader) await releaseLease(ctx.store.db, MAINTENANCE_LEASE, holder).catch(() => {});
      leader = false;
      prometheus.maintenanceLeader.set(0);
    },
  };
}
