import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GimoError, notFound } from "../core/errors.ts";
import { isReservedActorName, type Principal, type Role, roles, systemPrincipal } from "../core/roles.ts";
import { compiledQuery } from "../store/compiled-query.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import type { TokensTable } from "../store/schema.ts";
import type { AppContext } from "./context.ts";
import { PrincipalCache } from "./principal-cache.ts";
import { TokenWatch, type Watch } from "./token-watch.ts";

/**
 * Bearer tokens and authentication. Tokens come from the environment (`ORCH_<ROLE>_TOKEN`) or are
 * minted by an admin; minted tokens are stored only as SHA-256 hashes (they carry 256 random bits,
 * so a slow hash adds nothing) and shown once, at creation. A minted token's principal is kept in
 * memory for a bounded time (principal-cache.ts: revocation here forgets it at once, another
 * replica's within 2 s).
 */
export type TokenInfo = Omit<TokensTable, "hash"> & { role: Role };

const toInfo = ({ hash: _hash, ...rest }: TokensTable): TokenInfo => ({ ...rest, role: rest.role as Role });
const digest = (token: string) => hash("sha256", token, "buffer");
const selectLiveToken = compiledQuery(
  (db, hex: string) =>
    db.selectFrom("tokens").selectAll().where("hash", "=", hex).where("revoked_at", "is", null),
  ["\0token-hash"],
);
const LAST_USED_EVERY_MS = 60_000;

export class TokenService {
  readonly #ctx: AppContext;
  readonly #envTokens: { role: Role; digest: Buffer }[];
  readonly #lastUsedWritten = new Map<string, number>();
  readonly #watch: TokenWatch;
  readonly #principals = new PrincipalCache();

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.#watch = new TokenWatch(ctx);
    this.#envTokens = roles.flatMap((role) => {
      const value = ctx.config.envTokens[role];
      return value ? [{ role, digest: digest(value) }] : [];
    });
  }

  /** Who a bearer token belongs to, or undefined when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const d = digest(token);
    for (const env of this.#envTokens) {
      if (timingSafeEqual(env.digest, d)) return { actor: `env:${env.role}`, role: env.role, tokenId: null };
    }
    const hex = d.toString("hex");
    const cached = this.#principals.get(hex, this.#ctx.clock.now().getTime());
    if (cached?.tokenId) {
      this.#touch(cached.tokenId, this.#ctx.clock.now());
      return cached;
    }
    const generation = this.#principals.generation();
    const [row] = await selectLiveToken(this.#ctx.store.db, hex);
    const now = this.#ctx.clock.now();
    if (!row || (row.expires_at !== null && row.expires_at <= now.toISOString())) return undefined;
    this.#touch(row.id, now);
    const principal: Principal = { actor: row.name, role: row.role as Role, tokenId: row.id };
    const expiresAt = row.expires_at === null ? null : Date.parse(row.expires_at);
    this.#principals.set(hex, generation, { principal, expiresAt }, now.getTime());
    return principal;
  }

  #touch(id: string, now: Date): void {
    const last = this.#lastUsedWritten.get(id) ?? 0;
    if (now.getTime() - last < LAST_USED_EVERY_MS) return;
    this.#lastUsedWritten.set(id, now.getTime());
    void this.#ctx.store.db
      .updateTable("tokens")
      .set({ last_used_at: now.toISOString() })
      .where("id", "=", id)
      .execute()
      .catch(() => {});
  }

  async mint(principal: Principal, input: { name: string; role: Role; expires_at?: string }) {
    if (isReservedActorName(input.name)) {
      throw new GimoError(
        "validation_failed",
        `the token name ${input.name} is reserved: names starting with env: or system, and embedded-runner, are GIMO's own actors`,
      );
    }
    const token = `gimo_${randomBytes(32).toString("base64url")}`;
    this.#ctx.redactor.add(token);
    return this.#ctx.store.write(principal, async (w) => {
      const taken = await w.tx
        .selectFrom("tokens")
        .select("id")
        .where("name", "=", input.name)
        .executeTakeFirst();
      if (taken) throw new GimoError("conflict", `a token named ${input.name} already exists`);
      const row: TokensTable = {
        id: this.#ctx.ids("token"),
        name: input.name,
        role: input.role,
        hash: digest(token).toString("hex"),
        created_by: principal.actor,
        created_at: w.now,
        expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
        revoked_at: null,
        last_used_at: null,
      };
      await w.tx.insertInto("tokens").values(row).execute();
      w.emit("token.created", row.id, { name: row.name, role: row.role });
      return { ...toInfo(row), token };
    });
  }

  async list(limit: number, cursor?: string): Promise<Page<TokenInfo>> {
    return keysetPage(
      this.#ctx.store.db.selectFrom("tokens").selectAll(),
      { key: "id", order: "asc", limit: limit, cursor: cursor },
      toInfo,
    );
  }

  /**
   * Watches the token of a long-lived request (an event stream): the signal aborts when the token
   * is revoked or expires (token-watch.ts). Call `stop` when the request ends.
   */
  watch(principal: Principal): Watch {
    return this.#watch.watch(principal);
  }

  /** Revokes a token: it stops working at once, and its open streams end. */
  async revoke(principal: Principal, id: string): Promise<TokenInfo> {
    const revoked = await this.#ctx.store.write(principal, async (w) => {
      const row = await w.tx.selectFrom("tokens").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) throw notFound("token", id);
      if (row.revoked_at !== null)
        throw new GimoError("illegal_transition", `token ${id} is already revoked`);
      await w.tx.updateTable("tokens").set({ revoked_at: w.now }).where("id", "=", id).execute();
      w.emit("token.revoked", id, { name: row.name, role: row.role });
      return toInfo({ ...row, revoked_at: w.now });
    });
    this.#principals.forget(id);
    this.#watch.revoked(id);
    return revoked;
  }

  /**
   * First start: when no admin token exists (none in the environment, none minted and live), mint
   * one, write it to `<data dir>/admin.token` (0600) for the CLI, and return it to be printed once.
   */
  async ensureAdminToken(): Promise<string | undefined> {
    if (this.#ctx.config.envTokens.admin) return undefined;
    const live = await this.#ctx.store.db
      .selectFrom("tokens")
      .select("id")
      .where("role", "=", "admin")
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (live) return undefined;
    const nameTaken = await this.#ctx.store.db
      .selectFrom("tokens")
      .select("id")
      .where("name", "=", "admin")
      .executeTakeFirst();
    const name = nameTaken ? `admin-${randomBytes(3).toString("hex")}` : "admin";
    let created: { token: string };
    try {
      created = await this.mint(systemPrincipal, { name, role: "admin" });
    } catch (error) {
      // Another process starting at the same moment minted it, or panic mode is on: nothing to print.
      if (error instanceof GimoError && (error.code === "panic_mode" || error.code === "conflict"))
        return undefined;
      throw error;
    }
    mkdirSync(this.#ctx.config.dataDir, { recursive: true, mode: 0o700 });
    const file = join(this.#ctx.config.dataDir, "admin.token");
    writeFileSync(file, `${created.token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return created.token;
  }
}
