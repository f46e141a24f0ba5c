import type { Principal } from "../core/roles.ts";
import { RECHECK_MS } from "./token-watch.ts";

/**
 * Minted token → principal, kept in memory so a request does not read the `tokens` row every time
 * (bench/api: the lookup was a database round trip per request). What may change about a token
 * row while the server runs is `revoked_at` (and `last_used_at`, which authentication does not
 * read); the role and `expires_at` are fixed at minting. So an entry is trusted until
 *   - the token's own `expires_at` — checked on every hit, against the service's clock;
 *   - a revocation committed in this process — `forget(id)` drops it at once, and the generation
 *     number keeps a lookup that read the row before that commit from putting it back;
 *   - TTL_MS after it was read — the bound for a revocation committed by another replica
 *     (PostgreSQL), the same bound as open event streams have (token-watch.ts re-checks every
 *     RECHECK_MS).
 * Unknown, revoked and expired tokens are never cached: a miss always reads the database. Keys are
 * the SHA-256 digests, never the tokens. The map is bounded; when full it starts over.
 */
export const TTL_MS = RECHECK_MS;
const MAX_ENTRIES = 10_000;

interface Entry {
  principal: Principal;
  expiresAt: number | null;
  until: number;
}

export class PrincipalCache {
  readonly #entries = new Map<string, Entry>();
  #generation = 0;

  /** The principal of a digest read at most TTL_MS ago and not expired at `now`, if any. */
  get(digest: string, now: number): Principal | undefined {
    const entry = this.#entries.get(digest);
    if (!entry) return undefined;
    if (now >= entry.until || (entry.expiresAt !== null && now >= entry.expiresAt)) {
      this.#entries.delete(digest);
      return undefined;
    }
    return entry.principal;
  }

  /** Taken before reading a row; `set` with it stores nothing if a revocation committed meanwhile. */
  generation(): number {
    return this.#generation;
  }

  set(
    digest: string,
    generation: number,
    entry: { principal: Principal; expiresAt: number | null },
    now: number,
  ) {
    if (generation !== this.#generation) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(digest, { ...entry, until: now + TTL_MS });
  }

  /** A revocation of token `id` committed in this process: forget it now. */
  forget(id: string): void {
    this.#generation += 1;
    for (const [digest, entry] of this.#entries) {
      if (entry.principal.tokenId === id) this.#entries.delete(digest);
    }
  }
}
