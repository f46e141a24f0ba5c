import { type Kysely, sql, type Transaction } from "kysely";
import { canonicalJson } from "../core/canonical-json.ts";
import { sha256Hex } from "../core/content-hash.ts";
import type { StorageKind } from "./database.ts";
import { GENESIS_HASH } from "./migrations/0001_core.ts";
import type { Database, EventsTable } from "./schema.ts";

/**
 * The append-only, hash-chained event log.
 *
 * Each event's `hash` is `sha256:` of the canonical JSON of its own fields and `prev_hash`, the
 * hash of the event before it. `event_head` holds the last seq and hash; appending locks that row
 * for the rest of the transaction, so seqs are assigned in commit order with no gaps — which is
 * what lets an SSE client resume from `Last-Event-ID` without missing an event that committed late.
 */
export interface NewEvent {
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

export interface EventIdentity {
  actor: string;
  role: string;
}

export function hashEvent(row: Omit<EventsTable, "hash">): string {
  const { seq, ts, actor, role, type, subject, data, prev_hash } = row;
  return `sha256:${sha256Hex(canonicalJson({ seq, ts, actor, role, type, subject, data, prev_hash }))}`;
}

/**
 * Appends `events` inside `tx`; returns the seq of the last one (-1 when there were none).
 * On PostgreSQL this is one call of `gimo_append_events` (migration 0005), which also sends the
 * NOTIFY (`<seq>[:q]`, delivered at commit) that wakes other processes; see pg-listener.
 */
export async function appendEvents(
  tx: Transaction<Database>,
  kind: StorageKind,
  who: EventIdentity,
  ts: string,
  events: readonly NewEvent[],
  notify: { channel: string; queueChanged: boolean },
): Promise<number> {
  if (events.length === 0) return -1; // nothing to append: take no lock (the caller skips the wake-up)
  // Text is stored as UTF-8, where a lone surrogate becomes U+FFFD: hash what will be stored.
  const actor = who.actor.toWellFormed();
  const role = who.role.toWellFormed();
  const subjects = events.map((e) => e.subject.toWellFormed());
  const types = events.map((e) => e.type.toWellFormed());
  if (kind === "postgres") {
    const { rows } = await sql<{ seq: string }>`select gimo_append_events(
      ${actor}, ${role}, ${ts}, ${types}::text[], ${subjects}::text[],
      ${events.map((e) => canonicalJson(e.data))}::text[],
      ${notify.channel}, ${notify.queueChanged}) as seq`.execute(tx);
    return Number(rows[0]?.seq);
  }
  const current = await tx
    .selectFrom("event_head")
    .select(["seq", "hash"])
    .where("id", "=", 1)
    .executeTakeFirstOrThrow();
  let { seq, hash } = current;
  const rows: EventsTable[] = [];
  for (const [i, event] of events.entries()) {
    seq += 1;
    const row = {
      seq,
      ts,
      actor,
      role,
      type: types[i] as string,
      subject: subjects[i] as string,
      data: canonicalJson(event.data),
      prev_hash: hash,
    };
    hash = hashEvent(row);
    rows.push({ ...row, hash });
  }
  await tx.insertInto("events").values(rows).execute();
  await tx.updateTable("event_head").set({ seq, hash }).where("id", "=", 1).execute();
  return seq;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  broken_at?: number;
  reason?: string;
}

export interface VerifyOptions {
  /**
   * A head recorded earlier: event `seq` must exist with this `hash`, the chain verified through
   * it. Without one, a tail cut off (with `event_head` moved back to match) or a chain rewritten
   * with recomputed hashes looks whole: nothing in the database remembers what was there.
   */
  head?: { seq: number; hash: string } | undefined;
  /** Sees every row that fitted the chain, in seq order. */
  visit?: (row: EventsTable) => void;
}

/** Walks the whole chain; names the first seq whose row was edited, deleted or moved. */
export async function verifyChain(
  db: Kysely<Database>,
  pageSize = 2_000,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const { head: anchor, visit } = options;
  if (anchor?.seq === 0 && anchor.hash !== GENESIS_HASH) {
    return {
      ok: false,
      checked: 0,
      broken_at: 0,
      reason: "the recorded head 0 is not the start of the chain",
    };
  }
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const rows = await db
      .selectFrom("events")
      .selectAll()
      .where("seq", ">=", expectedSeq)
      .orderBy("seq")
      .limit(pageSize)
      .execute();
    for (const row of rows) {
      if (row.seq !== expectedSeq) {
        return { ok: false, checked, broken_at: expectedSeq, reason: `event ${expectedSeq} is missing` };
      }
      if (row.prev_hash !== prevHash) {
        return {
          ok: false,
          checked,
          broken_at: row.seq,
          reason: `event ${row.seq} does not follow its predecessor`,
        };
      }
      const { hash, ...rest } = row;
      if (hashEvent(rest) !== hash) {
        return { ok: false, checked, broken_at: row.seq, reason: `event ${row.seq} was altered` };
      }
      if (anchor && row.seq === anchor.seq && hash !== anchor.hash) {
        return {
          ok: false,
          checked,
          broken_at: row.seq,
          reason: `event ${row.seq} is not the recorded head (its hash is ${hash}): the chain was rewritten up to it`,
        };
      }
      visit?.(row);
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < pageSize) break;
  }
  const head = await db
    .selectFrom("event_head")
    .select(["seq", "hash"])
    .where("id", "=", 1)
    .executeTakeFirst();
  const last = expectedSeq - 1;
  if (anchor && anchor.seq > last) {
    return {
      ok: false,
      checked,
      broken_at: last + 1,
      reason: `the log ends at event ${last}, before the recorded head ${anchor.seq}: events ${last + 1} to ${anchor.seq} were removed`,
    };
  }
  if (!head || head.seq > last) {
    return { ok: false, checked, broken_at: expectedSeq, reason: `events after ${last} are missing` };
  }
  // Rows past the head were written behind the log's back; a last row that does not match the
  // head's hash was rewritten (its own hash recomputed). Either way, name a seq that exists.
  if (head.seq < last) {
    const forged = head.seq + 1;
    return { ok: false, checked: head.seq, broken_at: forged, reason: `event ${forged} is past the head` };
  }
  if (head.hash !== prevHash) {
    const at = Math.max(last, 1);
    return { ok: false, checked: at - 1, broken_at: at, reason: `event ${at} does not match the head` };
  }
  return { ok: true, checked };
}
