import type { Principal } from "../core/roles.ts";
import type { AppContext } from "./context.ts";

/**
 * Keeps long-lived requests (event streams) honest about the token that opened them (SPEC §2:
 * "revoking a token ends its open streams"). A bearer token is checked when a request arrives; a
 * stream outlives that check, so it watches its token for as long as it stays open. The watch's
 * signal aborts when the token
 *   - is revoked in this process: at once, after the revocation commits (`revoked`);
 *   - expires: at its `expires_at`, by a timer;
 *   - is revoked by another replica (PostgreSQL) or its row disappears: found by a re-check of the
 *     row every RECHECK_MS.
 * Environment tokens (`tokenId` null) cannot be revoked while the server runs: their watch never
 * aborts.
 */
export const RECHECK_MS = 2_000;
/** setTimeout's limit; a later expiry is re-armed by the periodic re-check. */
const MAX_TIMER_MS = 2_147_483_647;

export interface Watch {
  signal: AbortSignal;
  /** The request is over: forget the watch. */
  stop(): void;
}

export class TokenWatch {
  readonly #ctx: AppContext;
  readonly #open = new Map<string, Set<AbortController>>();

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  watch(principal: Principal): Watch {
    const controller = new AbortController();
    const id = principal.tokenId;
    if (id === null) return { signal: controller.signal, stop: () => {} };
    let expiry: NodeJS.Timeout | undefined;
    let stopped = false;
    const end = (reason: string) => {
      if (!controller.signal.aborted) controller.abort(reason);
      stop();
    };
    const check = async () => {
      const row = await this.#ctx.store.db
        .selectFrom("tokens")
        .select(["revoked_at", "expires_at"])
        .where("id", "=", id)
        .executeTakeFirst()
        .catch(() => "unknown" as const); // a database hiccup: try again at the next re-check
      if (row === "unknown" || stopped) return;
      if (!row || row.revoked_at !== null) return end("token revoked");
      if (row.expires_at === null) return;
      const left = Date.parse(row.expires_at) - this.#ctx.clock.now().getTime();
      if (left <= 0) return end("token expired");
      clearTimeout(expiry);
      expiry = setTimeout(() => end("token expired"), Math.min(left, MAX_TIMER_MS));
      expiry.unref();
    };
    const recheck = setInterval(() => void check(), RECHECK_MS);
    recheck.unref();
    const stop = () => {
      stopped = true;
      clearInterval(recheck);
      clearTimeout(expiry);
      const set = this.#open.get(id);
      set?.delete(controller);
      if (set?.size === 0) this.#open.delete(id);
    };
    const set = this.#open.get(id) ?? new Set();
    set.add(controller);
    this.#open.set(id, set);
    void check();
    return { signal: controller.signal, stop };
  }

  /** A revocation of `id` committed in this process: end its watches now. */
  revoked(id: string): void {
    for (const controller of this.#open.get(id) ?? []) controller.abort("token revoked");
  }
}
