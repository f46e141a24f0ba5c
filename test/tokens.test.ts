import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";

/**
 * Minted tokens: names that cannot pass for a built-in identity.
 */
describe.each(storageKinds())("minted tokens on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  it("refuses names that would make a token's actor an environment token's or the system's", async () => {
    const before = await g.gimo.services.audit.headSeq();
    for (const name of [
      "env:operator",
      "env:admin",
      "ENV:admin",
      "env:",
      "system",
      "System",
      "system-ops",
      "embedded-runner",
    ]) {
      const res = await g.request("POST", "/ops/tokens", { body: { name, role: "operator" } });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.message).toMatch(/reserved/);
    }
    expect(await g.gimo.services.audit.headSeq()).toBe(before);
    const list = await g.request("GET", "/ops/tokens?limit=200");
    expect(list.body.items.map((t: { name: string }) => t.name)).toEqual([]);
    // Names that only look alike are fine.
    for (const name of ["environment", "envoy:bot", "my-system", "sys"]) {
      const res = await g.request("POST", "/ops/tokens", { body: { name, role: "actions" } });
      expect({ name, status: res.status }).toEqual({ name, status: 201 });
    }
  });
});
