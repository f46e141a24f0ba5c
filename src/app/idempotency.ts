import { GimoError } from "../core/errors.ts";
import type { AppContext } from "./context.ts";

/**
 * `Idempotency-Key` on mutating POSTs: the same key with the same request gets the same response
 * and no second effect.
 *
 * The first request with a key reserves it (a row with status 0); the work then runs as usual and
 * its response is stored on the row. A concurrent request with the same key waits for that
 * response and replays it; one with the same key but a different request is refused (422). A
 * request that failed releases its key, so a corrected retry can run. A reservation whose holder
 * died (older than `STALE_MS`) is taken over.
 */
export type Reservation = { kind: "new" } | { kind: "replay"; status: number; body: string };

const STALE_MS = 5 * 60_000;
const WAIT_MS = 30_000;
const POLL_MS = 20;

export class IdempotencyService {
  readonly #ctx: AppContext;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async reserve(actor: string, key: string, fingerprint: string): Promise<Reservation> {
    const db = this.#ctx.store.db;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const now = this.#ctx.clock.now();
      const inserted = await db
        .insertInto("idempotency")
        .values({ actor, key, fingerprint, status: 0, body: "", created_at: now.toISOString() })
        .onConflict((oc) => oc.columns(["actor", "key"]).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { kind: "new" };
      const row = await db
        .selectFrom("idempotency")
        .selectAll()
        .where("actor", "=", actor)
        .where("key", "=", key)
        .executeTakeFirst();
      if (!row) continue;
      if (row.fingerprint !== fingerprint) {
        throw new GimoError(
          "idempotency_key_reused",
          "this Idempotency-Key was used with a different request",
        );
      }
      if (row.status !== 0) return { kind: "replay", status: row.status, body: row.body };
      if (now.getTime() - Date.parse(row.created_at) > STALE_MS) {
        await this.release(actor, key);
        continue;
      }
      if (Date.now() > deadline) {
        throw new GimoError(
          "idempotency_in_progress",
          "a request with this Idempotency-Key is still in progress",
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async complete(actor: string, key: string, status: number, body: string): Promise<void> {
    await this.#ctx.store.db
      .updateTable("idempotency")
      .set({ status, body })
      .where("actor", "=", actor)
      .where("key", "=", key)
      .execute();
  }

  async release(actor: string, key: string): Promise<void> {
    await this.#ctx.store.db
      .deleteFrom("idempotency")
      .where("actor", "=", actor)
      .where("key", "=", key)
      .execute();
  }

  /** Forgets responses older than a day. */
  async prune(): Promise<void> {
    const before = new Date(this.#ctx.clock.now().getTime() - 86_400_000).toISOString();
    await this.#ctx.store.db
      .deleteFrom("idempotency")
      .where("created_at", "<", before)
      .where("status", "!=", 0)
      .execute();
  }
}
