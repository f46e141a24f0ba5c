import type { AppContext } from "./context.ts";
import type { RunnerService } from "./runners.ts";
import type { StatusService } from "./status.ts";

/** `GET /ops/metrics`: the operator's dashboard figures, read straight from the store. */
export class MetricsService {
  readonly #ctx: AppContext;
  readonly #status: StatusService;
  readonly #runners: RunnerService;

  constructor(ctx: AppContext, status: StatusService, runners: RunnerService) {
    this.#ctx = ctx;
    this.#status = status;
    this.#runners = runners;
  }

  async snapshot() {
    const db = this.#ctx.store.db;
    const [runs, runners, last20, oldest, awaiting] = await Promise.all([
      this.#status.queueCounts(),
      this.#runners.counts(),
      db
        .selectFrom("runs")
        .select("status")
        .where("status", "in", ["succeeded", "failed"])
        // Always true of an ended run; it lets PostgreSQL read the partial index runs_finished.
        .where("finished_at", "is not", null)
        .orderBy("finished_at", "desc")
        .limit(20)
        .execute(),
      db
        .selectFrom("runs")
        .select("created_at")
        .where("status", "=", "queued")
        .orderBy("created_at")
        .limit(1)
        .executeTakeFirst(),
      db
        .selectFrom("drafts")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("status", "=", "draft")
        .executeTakeFirstOrThrow(),
    ]);
    const failed = last20.filter((r) => r.status === "failed").length;
    const now = this.#ctx.clock.now().getTime();
    return {
      runs,
      runners,
      fail_rate_last_20: last20.length === 0 ? 0 : failed / last20.length,
      oldest_queued_age_seconds: oldest ? Math.max(0, (now - Date.parse(oldest.created_at)) / 1000) : 0,
      drafts_awaiting_approval: Number(awaiting.n),
    };
  }
}
