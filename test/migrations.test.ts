import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrate, openDatabase } from "../src/store/database.ts";
import { migrations } from "../src/store/migrations/index.ts";
import { createTestDatabase, storageKinds } from "./support/databases.ts";

const run = promisify(execFile);
const child = resolve(import.meta.dirname, "support/migrate-child.ts");

describe.each(storageKinds())("migrations on %s", (kind) => {
  it("are safe when several processes start at once on a fresh database", async () => {
    const db = await createTestDatabase(kind);
    try {
      const results = await Promise.all(
        Array.from({ length: 4 }, () => run(process.execPath, [child, db.databaseUrl ?? "", db.dataDir])),
      );
      for (const r of results) expect(r.stdout).toContain("migrated");
      const handle = openDatabase({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
      try {
        const applied = await handle.db
          .selectFrom("gimo_migrations" as never)
          .select(sql<string>`name`.as("name"))
          .execute();
        expect(applied.map((r) => r.name).sort()).toEqual(Object.keys(migrations).sort());
        await migrate(handle.db); // idempotent on an up-to-date database
        const head = await handle.db.selectFrom("event_head").selectAll().execute();
        expect(head).toHaveLength(1);
      } finally {
        await handle.close();
      }
    } finally {
      await db.drop();
    }
  });

  it("keep the SQLite file in the data dir by default", () => {
    if (kind !== "sqlite") return;
    const handle = openDatabase({ databaseUrl: undefined, dataDir: "/tmp/gimo-x" });
    expect(handle.location).toBe(join("/tmp/gimo-x", "gimo.sqlite"));
    void handle.close();
  });
});
