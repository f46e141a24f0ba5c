import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemPrincipal } from "../src/core/roles.ts";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";

// The grouping logic is unit-tested in src/store/group-commit.test.ts; this checks, on a real
// PostgreSQL, that grouped writes do share a transaction (SQLite has no transaction id to compare).
describe.each(storageKinds().filter((k) => k === "postgres"))("group commit on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  it("writes that arrive while one is committing share the next transaction", async () => {
    const store = g.gimo.services.ctx.store;
    const transactionId = (before?: Promise<void>) =>
      store.write(
        systemPrincipal,
        async (w) => {
          await before;
          const { rows } = await sql<{ id: string }>`select txid_current()::text as id`.execute(w.tx);
          return rows[0]?.id;
        },
        { group: true },
      );
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = transactionId(gate);
    const waiting = [transactionId(), transactionId(), transactionId()];
    open();
    const [alone, ...grouped] = await Promise.all([first, ...waiting]);
    expect(alone).toMatch(/^\d+$/);
    expect(new Set(grouped)).toEqual(new Set([grouped[0]]));
    expect(grouped[0]).not.toBe(alone);
  });
});
