import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { createGimo } from "../src/gimo.ts";
import { createLogger } from "../src/log.ts";
import { databaseRequestNumbers, fileRequestNumbers } from "../src/secrets/request-numbers.ts";
import { decodeSealed } from "../src/secrets/sealed.ts";
import { type Vault, VaultUnusable, vaultFileName } from "../src/secrets/vault.ts";
import { KEY_SETTING, openDatabaseVault } from "../src/secrets/vault-database.ts";
import { openFileVault } from "../src/secrets/vault-file.ts";
import { type DatabaseHandle, migrate, openDatabase } from "../src/store/database.ts";
import { writeSetting } from "../src/store/settings.ts";
import { createTestDatabase, storageKinds, type TestDatabase } from "./support/databases.ts";

/**
 * The vault port and its two implementations (src/secrets/vault.ts): one conformance suite for the
 * file in the data dir and for the database (on SQLite and on PostgreSQL), then what only the
 * database vault does — the key check every replica passes, refusing to run without
 * GIMO_MASTER_KEY once something is stored, and moving an older file vault in.
 */
const SECRET = "sk-live-VAULT-CONFORMANCE-0123456789";

interface Opened {
  handle: DatabaseHandle;
  db: TestDatabase;
}
const opened: Opened[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.handle.close();
    await o.db.drop();
  }
});

async function database(kind: "sqlite" | "postgres"): Promise<Opened> {
  const db = await createTestDatabase(kind);
  const handle = openDatabase({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
  await migrate(handle.db);
  const o = { handle, db };
  opened.push(o);
  return o;
}

/** Everything the database stores, as text, to search for values in clear. */
async function storedText(o: Opened): Promise<string> {
  const rows = [
    ...(await o.handle.db.selectFrom("vault_secrets").selectAll().execute()),
    ...(await o.handle.db.selectFrom("settings").selectAll().execute()),
  ];
  return JSON.stringify(rows);
}

interface Implementation {
  name: string;
  /** Two vaults over the same store with the same key: two replicas. */
  open(): Promise<{ a: Vault; b: Vault; stored: () => Promise<string>; wrongKey: () => Vault }>;
}

const implementations: Implementation[] = [
  {
    name: "file (data dir)",
    open: async () => {
      const o = await database("sqlite");
      const at = (masterKey: string) => openFileVault({ dataDir: o.db.dataDir, masterKey });
      return {
        a: at("right key"),
        b: at("right key"),
        wrongKey: () => at("wrong key"),
        stored: async () =>
          readdirSync(o.db.dataDir)
            .filter((f) => f.startsWith("vault"))
            .map((f) => f)
            .join(),
      };
    },
  },
  ...storageKinds().map(
    (kind): Implementation => ({
      name: `database (${kind})`,
      open: async () => {
        const o = await database(kind);
        const at = (masterKey: string, dataDir = o.db.dataDir) =>
          openDatabaseVault({ db: o.handle.db, dataDir, masterKey });
        return {
          a: at("right key"),
          b: at("right key"),
          wrongKey: () => at("wrong key"),
          stored: () => storedText(o),
        };
      },
    }),
  ),
];

describe.each(implementations)("the vault in the $name", (impl) => {
  it("stores, overwrites, lists and deletes secrets that another instance on the same store reads", async () => {
    const { a, b } = await impl.open();
    expect(await a.names()).toEqual([]);
    expect(await a.get("OPENAI_API_KEY")).toBeUndefined();
    await a.set("OPENAI_API_KEY", SECRET);
    await a.set("B_TOKEN", "first");
    await a.set("B_TOKEN", "second");
    expect(await b.get("OPENAI_API_KEY")).toBe(SECRET);
    expect(await b.get("B_TOKEN")).toBe("second");
    expect(await b.has("B_TOKEN")).toBe(true);
    expect(await b.has("MISSING")).toBe(false);
    expect(await b.names()).toEqual(["B_TOKEN", "OPENAI_API_KEY"]);
    expect(await b.delete("B_TOKEN")).toBe(true);
    expect(await b.delete("B_TOKEN")).toBe(false);
    expect(await a.names()).toEqual(["OPENAI_API_KEY"]);
  });

  it("keeps no value in clear, refuses bad names and empty values (400)", async () => {
    const { a, stored } = await impl.open();
    await a.set("OPENAI_API_KEY", SECRET);
    const text = await stored();
    expect(text).not.toContain("VAULT-CONFORMANCE");
    expect(text).not.toContain(Buffer.from(SECRET).toString("base64").slice(0, 12));
    for (const [name, value] of [
      ["not a name", "v"],
      ["OK", ""],
    ] as const) {
      const error = await a.set(name, value).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe("validation_failed");
    }
  });

  it("seals single values another instance opens, and a different key cannot", async () => {
    const { a, b, wrongKey } = await impl.open();
    const sealed = await a.sealValue(SECRET);
    expect(sealed).not.toContain(SECRET);
    expect(await b.openValue(sealed)).toBe(SECRET);
    expect(a.needsReseal(sealed)).toBe(false);
    await a.set("T", SECRET);
    const other = wrongKey();
    const refused = await Promise.all([
      other.openValue(sealed).catch((e: unknown) => e),
      other
        .prepare(0)
        .then(() => other.get("T"))
        .catch((e: unknown) => e),
    ]);
    for (const error of refused) {
      expect(error).toBeInstanceOf(VaultUnusable);
      expect((error as Error).message).toMatch(/different GIMO_MASTER_KEY|does not match/);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });
});

describe.each(storageKinds())("the database vault on %s", (kind) => {
  it("refuses a replica whose GIMO_MASTER_KEY is not the one the secrets were stored with", async () => {
    const o = await database(kind);
    await openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: "first" }).set("T", SECRET);
    const other = openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: "second" });
    const error = await other.prepare(0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultUnusable);
    expect((error as Error).message).toMatch(/every replica needs the same GIMO_MASTER_KEY/);
    // and it stores nothing under its own key
    expect(await other.set("U", "x").catch((e: unknown) => (e as Error).message)).toMatch(/does not match/);
    expect(await other.names()).toEqual(["T"]);
  });

  it("binds each row to its name: a sealed row copied to another name does not open", async () => {
    const o = await database(kind);
    const vault = openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: "k" });
    await vault.set("REAL", SECRET);
    await vault.set("DECOY", "harmless");
    const real = await o.handle.db
      .selectFrom("vault_secrets")
      .select("sealed")
      .where("name", "=", "REAL")
      .executeTakeFirstOrThrow();
    await o.handle.db
      .updateTable("vault_secrets")
      .set({ sealed: real.sealed })
      .where("name", "=", "DECOY")
      .execute();
    await expect(vault.get("DECOY")).rejects.toThrow(/belongs to another name/);
    expect(await vault.get("REAL")).toBe(SECRET);
  });

  it("without GIMO_MASTER_KEY: stores nothing (503 naming the variable), and refuses to start once anything is stored", async () => {
    const o = await database(kind);
    const keyless = openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: undefined });
    expect(await keyless.prepare(0)).toEqual({ imported: [], kept: [] });
    expect(await keyless.names()).toEqual([]);
    expect(await keyless.get("T")).toBeUndefined();
    for (const attempt of [() => keyless.set("T", SECRET), () => keyless.sealValue(SECRET)]) {
      const error = (await attempt().catch((e: unknown) => e)) as VaultUnusable;
      expect(error.code).toBe("unavailable");
      expect(error.status).toBe(503);
      expect(error.message).toMatch(/GIMO_MASTER_KEY is not set/);
    }
    await expect(keyless.prepare(2)).rejects.toThrow(/2 sealed secret\(s\) in the configuration/);
    await openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: "k" }).set("T", SECRET);
    const error = (await keyless.prepare(0).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/GIMO_MASTER_KEY is required with DATABASE_URL once secrets are stored/);
    expect(error.message).toContain("1 secret(s) in the vault");
    expect(error.message).not.toContain(SECRET);
  });

  it("moves an older file vault in: new names stored, names it holds kept, the file renamed", async () => {
    const o = await database(kind);
    const old = openFileVault({ dataDir: o.db.dataDir }); // sealed with the data dir's key file
    await old.set("ONLY_IN_FILE", SECRET);
    await old.set("IN_BOTH", "from the file");
    const legacySealed = await old.sealValue("sk-sealed-with-the-key-file");
    const numbers = fileRequestNumbers(o.db.dataDir);
    await numbers.assign(["ONLY_IN_FILE", "IN_BOTH"]);

    const dbVault = openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: "k" });
    await dbVault.set("IN_BOTH", "from the database");
    const keyless = openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: undefined });
    await expect(keyless.prepare(0)).rejects.toThrow(/a file vault to move in/);

    expect(await dbVault.prepare(0)).toEqual({ imported: ["ONLY_IN_FILE"], kept: ["IN_BOTH"] });
    expect(await dbVault.get("ONLY_IN_FILE")).toBe(SECRET);
    expect(await dbVault.get("IN_BOTH")).toBe("from the database");
    expect(existsSync(join(o.db.dataDir, vaultFileName))).toBe(false);
    expect(readdirSync(o.db.dataDir).some((f) => f.startsWith(`${vaultFileName}.imported-`))).toBe(true);
    expect(await dbVault.prepare(0)).toEqual({ imported: [], kept: [] }); // once

    // Values sealed with the old key file still open, and are marked to be sealed again.
    expect(await dbVault.openValue(legacySealed)).toBe("sk-sealed-with-the-key-file");
    expect(dbVault.needsReseal(legacySealed)).toBe(true);
    const resealed = await dbVault.sealValue(await dbVault.openValue(legacySealed));
    expect(decodeSealed(resealed)?.key).toBe("master_key");
    expect(dbVault.needsReseal(resealed)).toBe(false);

    // The request numbers move in with it, keeping their ids.
    const shared = databaseRequestNumbers(o.handle.db, o.db.dataDir);
    await shared.prepare();
    expect(await shared.all()).toEqual({ IN_BOTH: 1, ONLY_IN_FILE: 2 });
    expect(await shared.assign(["NEW_ONE", "IN_BOTH"])).toEqual({ IN_BOTH: 1, ONLY_IN_FILE: 2, NEW_ONE: 3 });
  });

  it("gives each name one number however many replicas number at once", async () => {
    const o = await database(kind);
    // Replicas: each its own connection pool (on SQLite, its own connection to the file).
    const handles = Array.from({ length: 6 }, () =>
      openDatabase({ databaseUrl: o.db.databaseUrl, dataDir: o.db.dataDir }),
    );
    const replicas = handles.map((h) => databaseRequestNumbers(h.db, o.db.dataDir));
    const names = Array.from({ length: 40 }, (_, i) => `NAME_${String(i).padStart(2, "0")}`);
    const results = await Promise.all(
      replicas.map((r, i) => r.assign(names.filter((_, j) => (j * 7 + i) % 6 !== 0))),
    ).finally(() => Promise.all(handles.map((h) => h.close())));
    const all = await databaseRequestNumbers(o.handle.db, o.db.dataDir).all();
    expect(Object.keys(all ?? {}).sort()).toEqual(names);
    expect(new Set(Object.values(all ?? {})).size).toBe(names.length);
    for (const result of results) for (const [name, n] of Object.entries(result)) expect(all?.[name]).toBe(n);
  });

  it("keeps its key check in the settings, sealed, not the key", async () => {
    const o = await database(kind);
    await openDatabaseVault({ db: o.handle.db, dataDir: o.db.dataDir, masterKey: "the master key" }).set(
      "T",
      "v",
    );
    const row = await o.handle.db
      .selectFrom("settings")
      .select("value")
      .where("key", "=", KEY_SETTING)
      .executeTakeFirstOrThrow();
    expect(row.value).not.toContain("the master key");
    expect(JSON.parse(row.value)).toMatchObject({ format: "gimo-vault", key: "master_key" });
  });
});

describe.skipIf(!inject("pgAvailable"))("upgrading a PostgreSQL deployment whose vault was a file", () => {
  it("at start: the file vault moves in, key-file-sealed configuration is sealed again, all audited", async () => {
    const o = await database("postgres");
    // What an older GIMO left: a vault file and a provider key sealed with the data dir's key file.
    const old = openFileVault({ dataDir: o.db.dataDir });
    await old.set("FORGE_TOKEN", SECRET);
    const sealedKey = await old.sealValue("sk-literal-from-an-older-gimo");
    await writeSetting(
      o.handle.db,
      "providers",
      { executor: { type: "openai_compat", model: "m", api_key: sealedKey } },
      new Date().toISOString(),
    );
    const config = (masterKey: string | undefined) =>
      loadConfig(
        {
          GIMO_DATA_DIR: o.db.dataDir,
          DATABASE_URL: o.db.databaseUrl,
          GIMO_MASTER_KEY: masterKey,
          GIMO_EMBEDDED_RUNNERS: "0",
        },
        { port: 0 },
      );
    const logger = createLogger("silent");
    await expect(createGimo(config(undefined), { logger, services: { env: {} } })).rejects.toThrow(
      /GIMO_MASTER_KEY is required with DATABASE_URL once secrets are stored, and there are: 1 sealed secret\(s\) in the configuration, a file vault to move in/,
    );
    const gimo = await createGimo(config("the master key"), { logger, services: { env: {} } });
    try {
      const { services } = gimo;
      const executor = (await services.providers.stored()).executor;
      expect(decodeSealed(String(executor?.api_key))?.key).toBe("master_key");
      expect((await services.providers.resolveConfig(executor as never)).api_key).toBe(
        "sk-literal-from-an-older-gimo",
      );
      const events = await services.ctx.store.db
        .selectFrom("events")
        .select(["type", "data"])
        .where("type", "in", ["secrets.imported", "secrets.sealed"])
        .orderBy("seq")
        .execute();
      expect(events.map((e) => [e.type, JSON.parse(e.data)])).toEqual([
        ["secrets.imported", { names: ["FORGE_TOKEN"], kept: [] }],
        ["secrets.sealed", { providers: true, projects: [] }],
      ]);
      expect(JSON.stringify(events)).not.toContain(SECRET);
    } finally {
      await gimo.close();
    }
    // Another replica, with its own data dir and the same key, reads the moved secret.
    const other = openDatabaseVault({
      db: o.handle.db,
      dataDir: "/nonexistent",
      masterKey: "the master key",
    });
    expect(await other.get("FORGE_TOKEN")).toBe(SECRET);
  });
});
