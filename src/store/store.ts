import { type Kysely, sql, type Transaction } from "kysely";
import type { EventPayload, EventType } from "../contract/events.ts";
import { type Clock, isoNow } from "../core/clock.ts";
import { GimoError } from "../core/errors.ts";
import { retryableKind } from "../core/retryable-errors.ts";
import type { Principal } from "../core/roles.ts";
import { PROJECT_GATE_LOCK } from "./advisory-locks.ts";
import { GroupCommit } from "./batcher.ts";
import type { DatabaseHandle, StorageKind } from "./database.ts";
import { EventBus, QUEUE_EVENTS } from "./event-bus.ts";
import { appendEvents, type NewEvent } from "./event-log.ts";
import { NOTIFY_CHANNEL } from "./pg-listener.ts";
import type { Database } from "./schema.ts";
import { readPanic } from "./settings.ts";

/**
 * The unit of work. Every mutation in GIMO runs inside `store.write`, which
 *  - opens a transaction (IMMEDIATE on SQLite),
 *  - refuses to start while panic mode is on (unless the caller is turning it off),
 *  - lets the work `emit` events, appended to the hash-chained log in the same transaction,
 *  - retries the whole unit on a serialization failure or deadlock,
 *  - wakes event readers after commit (in this process directly; in others through
 *    PostgreSQL NOTIFY, see pg-listener).
 * So no state change can happen without its event, and no event without its change.
 */
export interface Write {
  tx: Transaction<Database>;
  principal: Principal;
  now: string;
  /** Appends an event of the catalogue (contract/events.ts) in this transaction. */
  emit<T extends EventType>(type: T, subject: string, data: EventPayload<T>): void;
  /**
   * Holds a project's gate until the transaction ends (advisory-locks.ts): `shared` for new work
   * in the project, `exclusive` for a change to the project itself. Read the project after it.
   * On SQLite the IMMEDIATE transaction already holds the database's write lock.
   */
  lockProject(projectId: string, mode: "shared" | "exclusive"): Promise<void>;
}

export interface WriteOptions {
  /** Only `POST /ops/panic {on:false}` and the system's own recovery may write during panic. */
  allowInPanic?: boolean;
  /**
   * May share its transaction with other grouped writes that arrive while one is committing
   * (group commit, see batcher.ts). The work may then run twice, so it must be database work
   * only: nothing outside the transaction may depend on it having run once.
   */
  group?: boolean;
}

/** What a unit of work returns to the store: its result, its last event's seq, whether the queue changed. */
interface Outcome<T> {
  result: T;
  lastSeq: number;
  queueChanged: boolean;
}

/** Raised by the PostgreSQL functions of migration 0005 when panic mode refuses a write. */
const PANIC_SQLSTATE = "GM001";
const MAX_TRIES = 5;

export class Store {
  readonly kind: StorageKind;
  readonly db: Kysely<Database>;
  readonly location: string;
  readonly bus = new EventBus();
  readonly clock: Clock;
  readonly #handle: DatabaseHandle;
  readonly #groups: GroupCommit<Transaction<Database>>;

  constructor(handle: DatabaseHandle, clock: Clock) {
    this.#handle = handle;
    this.kind = handle.kind;
    this.db = handle.db;
    this.location = handle.location;
    this.clock = clock;
    // node:sqlite never yields to I/O inside a transaction: grouped writes gather for a turn of the
    // event loop instead, or no group would ever form (see batcher.ts).
    this.#groups = new GroupCommit(
      async (work) => {
        const outcomes = (await this.db.transaction().execute(work)) as Outcome<unknown>[];
        const lastSeq = Math.max(-1, ...outcomes.map((o) => o.lastSeq));
        if (lastSeq >= 0)
          this.bus.notify(
            lastSeq,
            outcomes.some((o) => o.queueChanged),
          );
        return outcomes.map((o) => o.result);
      },
      { gatherTurn: handle.kind === "sqlite" },
    );
  }

  async write<T>(
    principal: Principal,
    work: (w: Write) => Promise<T>,
    options: WriteOptions = {},
  ): Promise<T> {
    const alone = () =>
      this.#retrying(() =>
        this.db.transaction().execute((tx) => this.#writeIn(tx, principal, work, options)),
      );
    if (!options.group) return alone();
    return this.#groups.submit({ inGroup: (tx) => this.#writeIn(tx, principal, work, options), alone });
  }

  /**
   * A write that is a single statement calling one of the PostgreSQL functions of migrations 0005
   * and 0007: atomic on its own (no BEGIN/COMMIT round trips) and appending its own events.
   * Retried like `write`; readers are woken with the seq it reports (-1: no event).
   */
  async call<T>(statement: (db: Kysely<Database>) => Promise<Outcome<T>>): Promise<T> {
    return this.#retrying(() => statement(this.db));
  }

  async #retrying<T>(once: () => Promise<Outcome<T>>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let outcome: Outcome<T>;
      try {
        outcome = await once();
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new GimoError("conflict", "a concurrent change got there first; reload and retry");
        }
        if ((error as { code?: unknown })?.code === PANIC_SQLSTATE) {
          throw new GimoError("panic_mode", (error as Error).message);
        }
        if (attempt >= MAX_TRIES || !isRetryable(error)) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
        continue;
      }
      // Committed: waking readers comes after, outside the retry (a unit must never run twice).
      if (outcome.lastSeq >= 0) this.bus.notify(outcome.lastSeq, outcome.queueChanged);
      return outcome.result;
    }
  }

  /** One unit of work inside `tx`: the panic check, the work, and the append of its events. */
  async #writeIn<T>(
    tx: Transaction<Database>,
    principal: Principal,
    work: (w: Write) => Promise<T>,
    options: WriteOptions,
  ): Promise<Outcome<T>> {
    if (!options.allowInPanic) {
      const panic = await readPanic(tx);
      if (panic.on) {
        throw new GimoError("panic_mode", `panic mode is on${panic.reason ? `: ${panic.reason}` : ""}`);
      }
    }
    const events: NewEvent[] = [];
    const now = isoNow(this.clock);
    const result = await work({
      tx,
      principal,
      now,
      emit: (type, subject, data) => events.push({ type, subject, data }),
      lockProject: (projectId, mode) => this.#lockProject(tx, projectId, mode),
    });
    const queueChanged = events.some((e) => QUEUE_EVENTS.has(e.type));
    const lastSeq = await appendEvents(tx, this.kind, principal, now, events, {
      channel: NOTIFY_CHANNEL,
      queueChanged,
    });
    return { result, lastSeq, queueChanged };
  }

  async #lockProject(tx: Transaction<Database>, projectId: string, mode: "shared" | "exclusive") {
    if (this.kind !== "postgres") return;
    await (mode === "shared"
      ? sql`select pg_advisory_xact_lock_shared(${sql.lit(PROJECT_GATE_LOCK)}, hashtext(${projectId}))`
      : sql`select pg_advisory_xact_lock(${sql.lit(PROJECT_GATE_LOCK)}, hashtext(${projectId}))`
    ).execute(tx);
  }

  /**
   * `query` locking the rows it reads until the transaction ends: `FOR UPDATE` on PostgreSQL; on
   * SQLite the IMMEDIATE transaction already holds the database's write lock.
   */
  forUpdate<Q extends { forUpdate(): Q }>(query: Q): Q {
    return this.kind === "postgres" ? query.forUpdate() : query;
  }

  /**
   * How often a reader waiting for events should look again on its own: other processes' commits
   * reach this one through PostgreSQL NOTIFY, which a dropped connection can lose; on SQLite every
   * writer is in this process and always wakes its readers.
   */
  get missedWakeupPollMs(): number {
    return this.shared ? 5_000 : Number.POSITIVE_INFINITY;
  }

  /**
   * Whether other processes may use this database at the same time (replicas of `gimo serve`):
   * PostgreSQL. State every replica must see (the vault) then lives in the database; on SQLite
   * one process owns the data dir and may keep such state there.
   */
  get shared(): boolean {
    return this.kind === "postgres";
  }

  /** The seq of the last committed event. */
  async lastSeq(): Promise<number> {
    const row = await this.db
      .selectFrom("event_head")
      .select("seq")
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return row.seq;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

function isRetryable(error: unknown): boolean {
  return retryableKind(error) === "transaction";
}

/** PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY. */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e?.code === "23505") return true;
  return e?.errcode === 2067 || e?.errcode === 1555;
}
