import type { Event } from "../contract/event.ts";
import { type VerifyResult, verifyChain } from "../store/event-log.ts";
import { decodeCursor, type Page, toPage } from "../store/pagination.ts";
import { toEvent } from "../store/rows.ts";
import type { AppContext } from "./context.ts";

/** Reading the event log: the audit trail (pages) and the stream feed (everything after a seq). */
export class AuditService {
  readonly #ctx: AppContext;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async list(filter: {
    subject?: string;
    type?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<Event>> {
    const after = decodeCursor<number>(filter.cursor, "number");
    let q = this.#ctx.store.db
      .selectFrom("events")
      .selectAll()
      .orderBy("seq")
      .limit(filter.limit + 1);
    if (filter.subject) q = q.where("subject", "=", filter.subject);
    if (filter.type) q = q.where("type", "=", filter.type);
    if (after !== undefined) q = q.where("seq", ">", after);
    return toPage(await q.execute(), filter.limit, toEvent, (r) => r.seq);
  }

  /** Events in (`after`, `upTo`], oldest first; optionally only those about `subjects`. */
  async between(after: number, upTo: number, limit: number, subjects?: readonly string[]): Promise<Event[]> {
    if (upTo <= after) return [];
    let q = this.#ctx.store.db
      .selectFrom("events")
      .selectAll()
      .where("seq", ">", after)
      .where("seq", "<=", upTo)
      .orderBy("seq")
      .limit(limit);
    if (subjects) q = q.where("subject", "in", subjects);
    return (await q.execute()).map(toEvent);
  }

  async headSeq(): Promise<number> {
    const row = await this.#ctx.store.db
      .selectFrom("event_head")
      .select("seq")
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return row.seq;
  }

  verify(): Promise<VerifyResult> {
    return verifyChain(this.#ctx.store.db);
  }
}
