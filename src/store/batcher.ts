/**
 * Batching while one is in flight: units that arrive while a batch is being written wait for it,
 * then go together in the next one. N units then cost one commit (one fsync, one turn of the event
 * log's lock) instead of N, which is what lets a server keep up with many runners ending runs at
 * once.
 *
 * Life of a unit:
 *   submitted ─┬─ nothing in flight ──▶ runs alone at once (no wait, exactly as without batching)
 *              │                        — or, with `gatherTurn`, after the current turn of the
 *              │                        event loop, with every unit submitted during that turn
 *              └─ a batch in flight ──▶ waits; then goes with everything that waited with it in
 *                                       one batch (at most `maxBatch`)
 *   batch failed (it threw) ──▶ every unit of it runs again alone, so each gets its own result or
 *                               its own error, and one unit's failure never changes another's
 *                               outcome. A batch may also settle units one by one (`Settled`).
 *
 * So a unit may run more than once and must be safe to re-run: units are database work whose
 * batch is one transaction, rolled back whole when it throws.
 *
 * `gatherTurn` is for a database driver that never yields to I/O (node:sqlite is synchronous):
 * there a batch is never "in flight" while other requests are read, so without a turn's wait
 * nothing would ever be batched.
 *
 * Two uses: group commit (GroupCommit, below: units of work sharing one transaction, for the
 * store's grouped writes) and PostgreSQL's ends of runs (PostgresRunEnds: one statement,
 * `gimo_complete_many`, for the whole batch).
 */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Waiting<U> {
  unit: U;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface BatchOptions {
  /** At most this many units in one batch (32). */
  maxBatch?: number;
  /** Wait for the end of the event loop's turn before writing, gathering its units (false). */
  gatherTurn?: boolean;
}

export class Batcher<U, R> {
  readonly #runBatch: (units: U[]) => Promise<Settled<R>[]>;
  readonly #runAlone: (unit: U) => Promise<R>;
  readonly #maxBatch: number;
  readonly #gatherTurn: boolean;
  #waiting: Waiting<U>[] = [];
  #running = false;

  /**
   * `runBatch` writes several units at once and settles each (in order); `runAlone` writes one,
   * with its own transaction, retries and error mapping.
   */
  constructor(
    runBatch: (units: U[]) => Promise<Settled<R>[]>,
    runAlone: (unit: U) => Promise<R>,
    options: BatchOptions = {},
  ) {
    this.#runBatch = runBatch;
    this.#runAlone = runAlone;
    this.#maxBatch = options.maxBatch ?? 32;
    this.#gatherTurn = options.gatherTurn ?? false;
  }

  submit(unit: U): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ unit, resolve: resolve as (value: unknown) => void, reject });
      if (this.#running) return;
      this.#running = true;
      if (this.#gatherTurn) setImmediate(() => void this.#drain());
      else void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#maxBatch);
        if (batch.length === 1) {
          await this.#settleAlone(batch[0] as Waiting<U>);
          continue;
        }
        let settled: Settled<R>[];
        try {
          settled = await this.#runBatch(batch.map((w) => w.unit));
        } catch {
          await Promise.all(batch.map((w) => this.#settleAlone(w)));
          continue;
        }
        batch.forEach((waiting, i) => {
          const s = settled[i];
          if (s?.ok) waiting.resolve(s.value);
          else waiting.reject(s ? s.error : new Error("the batch settled fewer units than it was given"));
        });
      }
    } finally {
      this.#running = false;
    }
  }

  async #settleAlone(waiting: Waiting<U>): Promise<void> {
    try {
      waiting.resolve(await this.#runAlone(waiting.unit));
    } catch (error) {
      waiting.reject(error);
    }
  }
}

/** A unit of group commit: database work that may share a transaction with others. */
export interface GroupUnit<Tx, T> {
  /** Runs inside a transaction shared with other units; what it returns goes to `runGroup`. */
  inGroup(tx: Tx): Promise<unknown>;
  /** Runs by itself, with its own transaction, retries and error mapping. */
  alone(): Promise<T>;
}

/** Group commit: a batch is one transaction in which each unit's work runs in turn. */
export class GroupCommit<Tx> {
  readonly #batcher: Batcher<GroupUnit<Tx, unknown>, unknown>;

  /**
   * `runGroup` runs `work` in one transaction, commits it, and turns what each unit's `inGroup`
   * returned into what its `submit` resolves with.
   */
  constructor(
    runGroup: (work: (tx: Tx) => Promise<unknown[]>) => Promise<unknown[]>,
    options: BatchOptions = {},
  ) {
    this.#batcher = new Batcher(
      async (units) => {
        const results = await runGroup(async (tx) => {
          const out: unknown[] = [];
          for (const unit of units) out.push(await unit.inGroup(tx));
          return out;
        });
        return results.map((value) => ({ ok: true as const, value }));
      },
      (unit) => unit.alone(),
      options,
    );
  }

  submit<T>(unit: GroupUnit<Tx, T>): Promise<T> {
    return this.#batcher.submit(unit) as Promise<T>;
  }
}
