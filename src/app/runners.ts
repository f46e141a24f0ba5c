import type { RunnerView } from "../contract/runner.ts";
import { GimoError, notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import type { RunnersTable } from "../store/schema.ts";
import type { AppContext } from "./context.ts";

/**
 * Runner registry. A runner is online while its last heartbeat is younger than `ONLINE_S`; the
 * state is derived at read time, never stored. Heartbeats are liveness, not work: they are
 * accepted in panic mode and append no event.
 */
export const ONLINE_S = 60;

const KNOWN_RUNNERS_CACHED = 10_000;

export class RunnerService {
  readonly #ctx: AppContext;
  readonly #known = new Set<string>();

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async register(
    principal: Principal,
    input: { name: string; labels?: string[]; capacity?: number; uses_executor?: boolean },
  ) {
    return this.#ctx.store.write(principal, async (w) => {
      const row: RunnersTable = {
        id: this.#ctx.ids("runner"),
        name: input.name,
        labels: JSON.stringify(input.labels ?? []),
        capacity: input.capacity ?? 1,
        uses_executor: input.uses_executor ? 1 : 0,
        registered_at: w.now,
        last_heartbeat_at: w.now,
        stopped_at: null,
      };
      await w.tx.insertInto("runners").values(row).execute();
      w.emit("runner.registered", row.id, {
        name: row.name,
        labels: input.labels ?? [],
        capacity: row.capacity,
        uses_executor: row.uses_executor === 1,
      });
      return { runner_id: row.id, lease_seconds: this.#ctx.config.leaseSeconds };
    });
  }

  async heartbeat(principal: Principal, id: string, stopping = false) {
    return this.#ctx.store.write(
      principal,
      async (w) => {
        const updated = await w.tx
          .updateTable("runners")
          .set({ last_heartbeat_at: w.now, stopped_at: stopping ? w.now : null })
          .where("id", "=", id)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) throw notFound("runner", id);
        if (stopping) w.emit("runner.stopped", id, {});
        return { ok: true };
      },
      { allowInPanic: true },
    );
  }

  /**
   * Throws not_found for an id that was never registered. Runners are never deleted, so an id
   * seen once is remembered: a claim does not pay a query for it.
   */
  async assertKnown(id: string): Promise<void> {
    if (this.#known.has(id)) return;
    const row = await this.#ctx.store.db
      .selectFrom("runners")
      .select("id")
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) throw new GimoError("not_found", `runner ${id} is not registered; register first`);
    if (this.#known.size >= KNOWN_RUNNERS_CACHED) this.#known.clear();
    this.#known.add(id);
  }

  async list(): Promise<RunnerView[]> {
    const db = this.#ctx.store.db;
    const [rows, running] = await Promise.all([
      db.selectFrom("runners").selectAll().orderBy("id").execute(),
      db.selectFrom("runs").select(["id", "lease_owner"]).where("status", "=", "running").execute(),
    ]);
    const cutoff = this.#ctx.clock.now().getTime() - ONLINE_S * 1000;
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      labels: JSON.parse(r.labels) as string[],
      capacity: r.capacity,
      uses_executor: r.uses_executor === 1,
      status: r.stopped_at === null && Date.parse(r.last_heartbeat_at) > cutoff ? "online" : "offline",
      registered_at: r.registered_at,
      last_heartbeat_at: r.last_heartbeat_at,
      current_runs: running.filter((run) => run.lease_owner === r.id).map((run) => run.id),
    }));
  }

  /** The fleet: how many runners are online and offline, and each of them. */
  async status(): Promise<{ online: number; offline: number; runners: RunnerView[] }> {
    const runners = await this.list();
    const online = runners.filter((r) => r.status === "online").length;
    return { online, offline: runners.length - online, runners };
  }

  async counts(): Promise<{ online: number; offline: number }> {
    const { online, offline } = await this.status();
    return { online, offline };
  }
}
