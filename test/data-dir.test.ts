import { chmodSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { systemPrincipal } from "../src/core/roles.ts";
import { createGimo } from "../src/gimo.ts";
import { createLogger } from "../src/log.ts";
import { createTestDatabase, storageKinds } from "./support/databases.ts";

/**
 * The data dir is GIMO's alone (SPEC §10): the directory 0700 and every file GIMO keeps in it
 * 0600 — the SQLite database and its -wal/-shm, admin.token, the vault and its key, the
 * credential-request numbers — and a data dir left with looser modes is tightened at start.
 */
const mode = (path: string) => statSync(path).mode & 0o777;

describe.each(storageKinds())("the data dir on %s", (kind) => {
  it("is 0700 with every file 0600, even when it was left 0755 with 0644 files", async () => {
    const db = await createTestDatabase(kind);
    // As an older GIMO (or a careless umask) left it.
    chmodSync(db.dataDir, 0o755);
    writeFileSync(join(db.dataDir, "credential-requests.json"), '{"version":1,"numbers":{}}\n', {
      mode: 0o644,
    });
    chmodSync(join(db.dataDir, "credential-requests.json"), 0o644);
    const config = loadConfig(
      {
        GIMO_DATA_DIR: db.dataDir,
        DATABASE_URL: db.databaseUrl,
        GIMO_MASTER_KEY: db.masterKey,
        GIMO_EMBEDDED_RUNNERS: "0",
      },
      { port: 0 },
    );
    const gimo = await createGimo(config, { logger: createLogger("silent"), services: { env: {} } });
    try {
      expect(gimo.bootstrapToken).toBeDefined(); // admin.token was written
      // Something for the vault and its key file: a credential, and a literal provider key.
      await gimo.services.providers.put(systemPrincipal, {
        planner: { type: "openai_compat", model: "m", api_key: "${DATA_DIR_KEY}" },
        executor: { type: "openai_compat", model: "m", api_key: "sk-literal-data-dir" },
      });
      const request = (await gimo.services.credentials.list()).find((r) => r.name === "DATA_DIR_KEY");
      await gimo.services.credentials.provide(systemPrincipal, request?.id ?? "", "a value");
      // Writes go through the WAL.
      for (let i = 0; i < 3; i++) await gimo.services.panic.set(systemPrincipal, i % 2 === 0, "mode test");

      expect(mode(db.dataDir).toString(8)).toBe("700");
      const files = readdirSync(db.dataDir, { withFileTypes: true }).filter((e) => e.isFile());
      const names = files.map((f) => f.name.replace(/\.imported-.*/, ".imported-<time>")).sort();
      // On PostgreSQL the vault and the request numbers live in the database; the numbers an older
      // GIMO left in the data dir were moved in, the file kept under another name.
      const expected =
        kind === "sqlite"
          ? ["admin.token", "credential-requests.json", "vault.json", "vault.key"]
          : ["admin.token", "credential-requests.json.imported-<time>"];
      if (kind === "sqlite") expected.push("gimo.sqlite", "gimo.sqlite-shm", "gimo.sqlite-wal");
      expect(names).toEqual(expected.sort());
      for (const f of files) {
        expect({ file: f.name, mode: mode(join(db.dataDir, f.name)).toString(8) }).toEqual({
          file: f.name,
          mode: "600",
        });
      }
    } finally {
      await gimo.close();
      await db.drop();
    }
  });
});
