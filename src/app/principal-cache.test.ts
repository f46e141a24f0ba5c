import { describe, expect, it } from "vitest";
import { PrincipalCache, TTL_MS } from "./principal-cache.ts";

const alice = { actor: "alice", role: "operator" as const, tokenId: "k_alice" };

describe("PrincipalCache", () => {
  it("keeps a principal for TTL_MS, never past the token's expiry", () => {
    const cache = new PrincipalCache();
    cache.set("d1", cache.generation(), { principal: alice, expiresAt: null }, 1_000);
    expect(cache.get("d1", 1_000 + TTL_MS - 1)).toEqual(alice);
    expect(cache.get("d1", 1_000 + TTL_MS)).toBeUndefined();
    cache.set("d2", cache.generation(), { principal: alice, expiresAt: 1_500 }, 1_000);
    expect(cache.get("d2", 1_499)).toEqual(alice);
    expect(cache.get("d2", 1_500)).toBeUndefined();
  });

  it("forgets a revoked token at once, and a lookup begun before the revocation stores nothing", () => {
    const cache = new PrincipalCache();
    cache.set("d1", cache.generation(), { principal: alice, expiresAt: null }, 0);
    const before = cache.generation();
    cache.forget("k_alice");
    expect(cache.get("d1", 1)).toBeUndefined();
    cache.set("d1", before, { principal: alice, expiresAt: null }, 1);
    expect(cache.get("d1", 2)).toBeUndefined();
    cache.set("d1", cache.generation(), { principal: alice, expiresAt: null }, 3);
    expect(cache.get("d1", 4)).toEqual(alice);
  });
});
