import { sql } from "kysely";
import pkg from "../../package.json" with { type: "json" };
import { type RunStatus, runStatuses } from "../core/run-machine.ts";
import { readPanic } from "../store/settings.ts";
import type { AppContext } from "./context.ts";
import type { RunnerService } from "./runners.ts";

/** The version users see in /status and the OpenAPI documents: package.json's, one source. */
export const VERSION: string = pkg.version;

/** `/status` and `/ready`: what is running, on what, and whether the database answers. */
export class StatusService {
  readonly #ctx: AppContext;
  readonly #runners: RunnerService;

  constructor(ctx: AppContext, runners: RunnerService) {
    this.#ctx = ctx;
    this.#runners = runners;
  }

  async ready(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.#ctx.store.db);
      return true;
    } catch {
      return false;
    }
  }

  async queueCounts(): Promise<Record<RunStatus, number>> {
    const rows = await this.#ctx.store.db
      .selectFrom("runs")
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute();
    const counts = Object.fromEntries(runStatuses.map((s) => [s, 0])) as Record<RunStatus, number>;
    for (const row of rows) counts[row.status as RunStatus] = Number(row.n);
    return counts;
  }

  async status() {
    const [panic, queue, runners] = await Promise.all([
      readPanic(this.#ctx.store.db),
      this.queueCounts(),
      this.#runners.counts(),
    ]);
    return {
      name: "gimo" as const,
      version: VERSION,
      uptime_seconds: Math.round((Date.now() - this.#ctx.startedAt.getTime()) / 1000),
      storage: this.#ctx.store.kind,
      panic,
      runners_online: runners.online,
      queue,
    };
  }
}
