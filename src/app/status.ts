import type { Kysely } from "kysely";
import pkg from "../../package.json" with { type: "json" };
import type { Ready } from "../contract/system.ts";
import { type RunStatus, runStatuses } from "../core/run-machine.ts";
import { migrations } from "../store/migrations/index.ts";
import { appliedMigrations } from "../store/schema-version.ts";
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

  /**
   * Readiness: the database answers and carries every migration this version knows. Which model
   * roles are configured is reported but does not make the server unready: a server with no model
   * still serves the API and the UI where one is configured. (`providers` is what GIMO stores,
   * not a probe: `/ops/providers/health` calls the providers.)
   */
  async ready(providers: () => Promise<{ planner?: unknown; executor?: unknown }>): Promise<Ready> {
    const kind = this.#ctx.store.kind;
    try {
      const applied = await appliedMigrations(this.#ctx.store.db as Kysely<unknown>);
      const pending = Object.keys(migrations).filter((name) => !applied.includes(name));
      const stored = await providers();
      return {
        ok: pending.length === 0,
        database: kind,
        database_ok: true,
        migrations: { latest: applied.sort().at(-1) ?? null, pending },
        providers: { planner: stored.planner !== undefined, executor: stored.executor !== undefined },
      };
    } catch {
      return {
        ok: false,
        database: kind,
        database_ok: false,
        migrations: { latest: null, pending: [] },
        providers: { planner: false, executor: false },
      };
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
