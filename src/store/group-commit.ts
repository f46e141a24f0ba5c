/**
 * Group commit: units of work that arrive while a group is committing wait for it, then share the
 * next transaction. N units cost one commit (one fsync, one turn of the event log's lock) instead
 * of N, which is what lets a server keep up with many runners ending runs at once.
 *
 * Life of a unit:
 *   submitted ─┬─ nothing running ──▶ runs alone at once (no wait, exactly as without grouping)
 *              └─ a group running ──▶ waits; then runs with everything that waited with it, one
 *                                     after another, in one transaction (at most `maxGroup`)
 *   group failed (any error) ──▶ rolled back; every unit of it runs again alone, so each gets
 *                                its own result or its own error, and one unit's failure never
 *                                changes another's outcome.
 *
 * So a unit may run more than once and must be safe to re-run: units are database work, and the
 * store already retries them on deadlocks.
 */
export interface GroupUnit<Tx, T> {
  /** Runs inside a transaction shared with other units; what it returns goes to `runGroup`. */
  inGroup(tx: Tx): Promise<unknown>;
  /** Runs by itself, with its own transaction, retries and error mapping. */
  alone(): Promise<T>;
}

interface Waiting<Tx> {
  unit: GroupUnit<Tx, unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class GroupCommit<Tx> {
  readonly #runGroup: (work: (tx: Tx) => Promise<unknown[]>) => Promise<unknown[]>;
  readonly #maxGroup: number;
  #waiting: Waiting<Tx>[] = [];
  #running = false;

  /**
   * `runGroup` runs `work` in one transaction, commits it, and turns what each unit's `inGroup`
   * returned into what its `submit` resolves with.
   */
  constructor(runGroup: (work: (tx: Tx) => Promise<unknown[]>) => Promise<unknown[]>, maxGroup = 32) {
    this.#runGroup = runGroup;
    this.#maxGroup = maxGroup;
  }

  submit<T>(unit: GroupUnit<Tx, T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({ unit, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiting.length > 0) {
        const group = this.#waiting.splice(0, this.#maxGroup);
        if (group.length === 1) {
          await settleAlone(group[0] as Waiting<Tx>);
          continue;
        }
        let results: unknown[];
        try {
          results = await this.#runGroup(async (tx) => {
            const out: unknown[] = [];
            for (const { unit } of group) out.push(await unit.inGroup(tx));
            return out;
          });
        } catch {
          await Promise.all(group.map(settleAlone));
          continue;
        }
        group.forEach((waiting, i) => {
          waiting.resolve(results[i]);
        });
      }
    } finally {
      this.#running = false;
    }
  }
}

async function settleAlone<Tx>(waiting: Waiting<Tx>): Promise<void> {
  try {
    waiting.resolve(await waiting.unit.alone());
  } catch (error) {
    waiting.reject(error);
  }
}
