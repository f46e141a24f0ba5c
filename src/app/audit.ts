import type { AuditHead, Event } from "../contract/event.ts";
import { eventVisibleTo } from "../core/event-visibility.ts";
import type { Role } from "../core/roles.ts";
import { type VerifyResult, verifyChain } from "../store/event-log.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import { toEvent } from "../store/rows.ts";
import { approvalCollector, checkApprovals, type RecordedApproval } from "./approval-record.ts";
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
    let q = this.#ctx.store.db.selectFrom("events").selectAll();
    if (filter.subject) q = q.where("subject", "=", filter.subject);
    if (filter.type) q = q.where("type", "=", filter.type);
    return keysetPage(q, { key: "seq", order: "asc", limit: filter.limit, cursor: filter.cursor }, toEvent);
  }

  /**
   * What a stream reads next: the events in (`after`, `upTo`] its reader may see (core/
   * event-visibility), oldest first, optionally only those about `subjects`; `through` is the seq
   * it read up to (resume from there), `more` whether `limit` cut the read short.
   */
  async feed(
    after: number,
    upTo: number,
    limit: number,
    reader: { role: Role; subjects?: readonly string[] | undefined },
  ): Promise<{ events: Event[]; through: number; more: boolean }> {
    const read = await this.#range(after, upTo, limit, reader.subjects);
    return { ...read, events: read.events.filter((e) => eventVisibleTo(reader.role, e.type)) };
  }

  /** Every event in (`after`, `upTo`], oldest first, whoever may see it: the shared feed's read. */
  tail(
    after: number,
    upTo: number,
    limit: number,
  ): Promise<{ events: Event[]; through: number; more: boolean }> {
    return this.#range(after, upTo, limit, undefined);
  }

  async #range(
    after: number,
    upTo: number,
    limit: number,
    subjects: readonly string[] | undefined,
  ): Promise<{ events: Event[]; through: number; more: boolean }> {
    if (upTo <= after) return { events: [], through: after, more: false };
    let q = this.#ctx.store.db
      .selectFrom("events")
      .selectAll()
      .where("seq", ">", after)
      .where("seq", "<=", upTo)
      .orderBy("seq")
      .limit(limit);
    if (subjects) q = q.where("subject", "in", subjects);
    const rows = await q.execute();
    const more = rows.length === limit;
    return { events: rows.map(toEvent), through: more ? (rows.at(-1)?.seq ?? upTo) : upTo, more };
  }

  /**
   * Whether the last event about `subject` is one of `types` and was at or before `seq`: nothing
   * about it has happened since (a run's stream is over after its terminal event).
   */
  async subjectEndedAt(subject: string, types: readonly string[], seq: number): Promise<boolean> {
    const last = await this.#ctx.store.db
      .selectFrom("events")
      .select(["seq", "type"])
      .where("subject", "=", subject)
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    return last !== undefined && last.seq <= seq && types.includes(last.type);
  }

  async headSeq(): Promise<number> {
    const row = await this.#ctx.store.db
      .selectFrom("event_head")
      .select("seq")
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return row.seq;
  }

  /** The last event's seq and hash, to record outside GIMO (`GET /ops/audit/head`). */
  async head(): Promise<AuditHead> {
    const row = await this.#ctx.store.db
      .selectFrom("event_head")
      .select(["seq", "hash"])
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return { seq: row.seq, hash: row.hash };
  }

  /**
   * Walks the chain (through a recorded `head`, when given), then checks every approved snapshot
   * against the approval the chain recorded (approval-record.ts).
   */
  async verify(head?: AuditHead): Promise<VerifyResult> {
    const { db } = this.#ctx.store;
    const recorded = new Map<string, RecordedApproval>();
    const chain = await verifyChain(db, undefined, { head, visit: approvalCollector(recorded) });
    if (!chain.ok) return chain;
    return (await checkApprovals(db, recorded, chain.checked)) ?? chain;
  }
}
