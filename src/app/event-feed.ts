/**
 * One reader of the event log's tail per process, shared by every open event stream.
 *
 * A stream used to read the log itself on every commit, so 1,000 streams were 1,000 queries per
 * commit. The feed reads once for all of them: the events after what it has read, up to the head,
 * in batches; it keeps the latest `window` of them in memory, each with its JSON written once, and
 * wakes every stream waiting for a seq past the one it had. A stream asks `read(after)` and gets
 * the events after `after` from memory — or `undefined` when `after` is older than what the feed
 * holds (a resume from long ago, a run's history), and reads the database itself until it has
 * caught up. Events are immutable and their seqs commit-ordered (`event_head` serialises writers),
 * so what the feed holds is exactly the log's tail: a stream reading from it sees what it would
 * have read from the database, in the same order, without gaps.
 *
 * The feed reads only while a stream holds it; from idle it starts at the head. It is woken by the
 * store's bus (this process's commits, other replicas' through NOTIFY) and polls as a fallback. A
 * failed read (the database away) is logged once and retried with backoff; streams meanwhile keep
 * waiting (and sending keepalives) instead of failing.
 *
 *   idle ──hold──▶ reading ⇄ waiting (bus wake-up or poll) ──last release──▶ idle
 */
import type { Event } from "../contract/event.ts";
import { backoff } from "../core/backoff.ts";
import type { Logger } from "../log.ts";
import type { EventBus } from "../store/event-bus.ts";

/** An event as a stream sends it: the event and its JSON, written once for every stream. */
export interface FeedEntry {
  event: Event;
  json: string;
}

export interface FeedBatch {
  entries: FeedEntry[];
  /** The seq read up to: resume from here. */
  through: number;
  /** Whether `limit` cut the batch short (read again at once). */
  more: boolean;
}

/** What the feed reads: the head's seq, and every event in (after, upTo], oldest first. */
export interface EventLogTail {
  headSeq(): Promise<number>;
  tail(
    after: number,
    upTo: number,
    limit: number,
  ): Promise<{ events: Event[]; through: number; more: boolean }>;
}

export interface EventFeedOptions {
  /** Events kept in memory (default 2,048): a stream further behind reads the database. */
  window?: number;
  /** Events read per query (default 500). */
  batch?: number;
  /** Poll interval when no wake-up comes (a lost NOTIFY); Infinity (one process) is read as 15 s. */
  pollMs: number;
}

const MAX_POLL_MS = 15_000;

export class EventFeed {
  readonly #log: EventLogTail;
  readonly #bus: EventBus;
  readonly #logger: Logger;
  readonly #window: number;
  readonly #batch: number;
  readonly #pollMs: number;
  /** The entries in (#from, #scanned], oldest first. */
  #entries: FeedEntry[] = [];
  #from = 0;
  #scanned = 0;
  #holders = 0;
  #starting: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #loop: Promise<void> | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(log: EventLogTail, bus: EventBus, logger: Logger, opts: EventFeedOptions) {
    this.#log = log;
    this.#bus = bus;
    this.#logger = logger;
    this.#window = opts.window ?? 2_048;
    this.#batch = opts.batch ?? 500;
    this.#pollMs = Math.min(opts.pollMs, MAX_POLL_MS);
  }

  /** The seq the feed has read up to. */
  get scanned(): number {
    return this.#scanned;
  }

  /**
   * Takes a hold on the feed (it reads while anyone holds it) and resolves once it is reading.
   * Call the returned function to let go.
   */
  async hold(): Promise<() => void> {
    this.#holders += 1;
    try {
      if (!this.#loop) {
        this.#starting ??= this.#start().finally(() => {
          this.#starting = undefined;
        });
        await this.#starting;
      }
    } catch (error) {
      this.#holders -= 1;
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holders -= 1;
      if (this.#holders === 0) this.#idle();
    };
  }

  /**
   * The events after `after` (at most `limit`) from memory; `undefined` when `after` is older
   * than what the feed holds — read those from the database.
   */
  read(after: number, limit: number): FeedBatch | undefined {
    if (after >= this.#scanned) return { entries: [], through: after, more: false };
    if (after < this.#from) return undefined;
    const first = this.#indexAfter(after);
    const entries = this.#entries.slice(first, first + limit);
    const more = first + limit < this.#entries.length;
    return { entries, through: more ? (entries.at(-1)?.event.seq ?? after) : this.#scanned, more };
  }

  /** Resolves when the feed has read past `after`, after `timeoutMs`, or on abort. */
  wait(after: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#scanned > after || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Stops reading (the server is stopping); waits for the reading loop to return. */
  async close(): Promise<void> {
    this.#holders = 0;
    this.#idle();
    await this.#loop;
  }

  async #start(): Promise<void> {
    const head = await this.#log.headSeq();
    this.#entries = [];
    this.#from = head;
    this.#scanned = head;
    const stop = new AbortController();
    this.#stop = stop;
    this.#loop = this.#read(stop.signal).finally(() => {
      if (this.#stop === stop) this.#loop = undefined;
    });
  }

  #idle(): void {
    this.#stop?.abort();
    this.#stop = undefined;
    this.#loop = undefined;
    this.#entries = [];
    this.#wake(); // nobody should be waiting; if someone is, let it look again
  }

  async #read(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const head = await this.#log.headSeq();
        if (head > this.#scanned) {
          const { events, through, more } = await this.#log.tail(this.#scanned, head, this.#batch);
          if (signal.aborted) return;
          this.#append(events, through);
          failures = 0;
          if (more) continue;
        }
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        if (failures === 1)
          this.#logger.warn("event feed: reading the event log failed; retrying", {
            error: error instanceof Error ? error.message : String(error),
          });
        await sleep(backoff(failures, 100, 5_000), signal);
        continue;
      }
      await this.#bus.wait(this.#scanned, this.#pollMs, signal);
    }
  }

  #append(events: Event[], through: number): void {
    for (const event of events) this.#entries.push({ event, json: JSON.stringify(event) });
    this.#scanned = through;
    // Trim in chunks, so the copy happens once per `window` events, not on every batch.
    if (this.#entries.length > 2 * this.#window) {
      const cut = this.#entries.length - this.#window;
      this.#from = (this.#entries[cut - 1] as FeedEntry).event.seq;
      this.#entries = this.#entries.slice(cut);
    }
    this.#wake();
  }

  #wake(): void {
    for (const done of [...this.#waiters]) done();
  }

  /** The index of the first entry whose seq is greater than `after` (binary search). */
  #indexAfter(after: number): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#entries[mid] as FeedEntry).event.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    signal.addEventListener("abort", finish, { once: true });
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      done();
    }
  });
}
