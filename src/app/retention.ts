import type { Kysely } from "kysely";
import type { PurgeResult } from "../contract/system.ts";
import type { Principal } from "../core/roles.ts";
import { activeRunStatuses, terminalRunStatuses } from "../core/run-machine.ts";
import type { Database } from "../store/schema.ts";
import type { AppContext } from "./context.ts";

/**
 * Retention: finished runs older than the cutoff are deleted with their log lines and step
 * records — hourly for OPS_RUN_TTL days (maintenance.ts) and on demand (`POST /ops/purge`,
 * `gimo purge`). What stays:
 *  - the audit log: every event about a purged run (and one `retention.purged` per batch saying
 *    what went), so the chain still verifies and the history can still be read;
 *  - the task, its drafts and approved plans (small, and what an approval is about); a task whose
 *    runs were purged keeps the status its last run gave it (the derivation needs runs that are
 *    gone, so it is not redone);
 *  - a run another run still waits on (`depends_on` of a queued or running run).
 * Deletions go in batches of `BATCH` runs, one transaction each, so a large purge never holds
 * the write lock for long.
 */
const BATCH = 500;
const DAY_MS = 86_400_000;

export class RetentionService {
  readonly #ctx: AppContext;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async purge(
    principal: Principal,
    options: { olderThanDays: number; dryRun: boolean },
  ): Promise<PurgeResult> {
    const cutoff = new Date(this.#ctx.clock.now().getTime() - options.olderThanDays * DAY_MS).toISOString();
    if (options.dryRun) {
      const ids = await purgeable(this.#ctx.store.db, cutoff, Number.MAX_SAFE_INTEGER);
      return {
        dry_run: true,
        cutoff,
        runs: ids.length,
        log_lines: await countLogLines(this.#ctx.store.db, ids),
      };
    }
    let runs = 0;
    let logLines = 0;
    for (;;) {
      const batch = await this.#ctx.store.write(principal, async (w) => {
        const ids = await purgeable(w.tx, cutoff, BATCH);
        if (ids.length === 0) return { runs: 0, logLines: 0 };
        const logs = await w.tx.deleteFrom("run_logs").where("run_id", "in", ids).executeTakeFirst();
        await w.tx
          .deleteFrom("run_dependencies")
          .where((eb) => eb.or([eb("run_id", "in", ids), eb("depends_on", "in", ids)]))
          .execute();
        await w.tx.deleteFrom("runs").where("id", "in", ids).execute();
        const counts = { runs: ids.length, logLines: Number(logs.numDeletedRows) };
        w.emit("retention.purged", "retention", { cutoff, runs: counts.runs, log_lines: counts.logLines });
        return counts;
      });
      runs += batch.runs;
      logLines += batch.logLines;
      if (batch.runs < BATCH) break;
    }
    return { dry_run: false, cutoff, runs, log_lines: logLines };
  }
}

/** Ids of finished runs that ended before `cutoff` and that no active run depends on. */
async function purgeable(db: Kysely<Database>, cutoff: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("runs as r")
    .select("r.id")
    .where("r.status", "in", terminalRunStatuses)
    .where("r.finished_at", "<", cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("run_dependencies as d")
            .innerJoin("runs as x", "x.id", "d.run_id")
            .select("d.run_id")
            .whereRef("d.depends_on", "=", "r.id")
            .where("x.status", "in", activeRunStatuses),
        ),
      ),
    )
    .orderBy("r.finished_at")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

async function countLogLines(db: Kysely<Database>, ids: readonly string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < ids.length; i += BATCH) {
    const row = await db
      .selectFrom("run_logs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("run_id", "in", ids.slice(i, i + BATCH))
      .executeTakeFirst();
    total += Number(row?.n ?? 0);
  }
  return total;
}
