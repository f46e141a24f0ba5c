import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";
import { readSetting } from "../store/settings.ts";
import { decodeSealed } from "./sealed.ts";
import { checkSecret, type Vault, VaultUnusable, vaultFileName, vaultKeyFileName } from "./vault.ts";
import { type Envelope, isEnvelope, newSalt } from "./vault-crypto.ts";
import { fileVaultKeySource, openFileVault } from "./vault-file.ts";
import { type KeyRing, keyRing, openValueWith, sealValueWith } from "./vault-keys.ts";

/**
 * The vault in the database — on PostgreSQL, so a secret provided on one replica resolves on all.
 *
 * One row per secret in `vault_secrets` (migration 0012): `sealed` is a sealed envelope (sealed.ts,
 * AES-256-GCM) of `{name, value}` under `GIMO_MASTER_KEY`. The name sealed with the value means a
 * row copied to another name fails to open instead of answering with someone else's secret.
 * Nothing is ever stored in clear.
 *
 * The key: `GIMO_MASTER_KEY`, stretched with scrypt over one salt the database keeps beside a key
 * check (`settings` row `vault.key`: a sealed known text), created by the first replica that stores
 * a secret. Every replica checks its key against it before using anything, so a replica started
 * with another key is refused at start instead of writing rows the others cannot open.
 *
 * Without `GIMO_MASTER_KEY` the vault is empty and stores nothing: `prepare` refuses to start when
 * the database (or the data dir, or the configuration) holds anything sealed, and storing a secret
 * answers 503 naming the variable to set.
 *
 * Moving in (`prepare`): a `vault.json` left in the data dir by an older GIMO is opened with the
 * key it was sealed with (the master key or `vault.key`), each secret the database does not hold
 * yet is stored, and the file is renamed `vault.json.imported-<time>`. Configuration values sealed
 * with the old key file stay readable while that file exists, and are sealed again under the
 * master key at start (`needsReseal`, app/sealing.ts).
 */
export interface DatabaseVaultOptions {
  db: Kysely<Database>;
  dataDir: string;
  /** `GIMO_MASTER_KEY`. */
  masterKey: string | undefined;
  now?: () => string;
}

export const KEY_SETTING = "vault.key";
const KEY_CHECK = "gimo vault key check v1";

const noKey =
  "GIMO_MASTER_KEY is not set: with DATABASE_URL, secrets are stored in the database encrypted " +
  "under GIMO_MASTER_KEY. Set it (the same value on every replica) to store secrets";

export function openDatabaseVault(options: DatabaseVaultOptions): Vault {
  const { db, dataDir } = options;
  const legacyKeyFile = join(dataDir, vaultKeyFileName);
  const ring = options.masterKey
    ? keyRing({ masterKey: options.masterKey, keyFile: legacyKeyFile })
    : undefined;
  const legacy = keyRing({ keyFile: legacyKeyFile });
  const now = options.now ?? (() => new Date().toISOString());
  let salt: string | undefined;

  const requireKey = (): KeyRing => {
    if (!ring) throw new VaultUnusable(noKey);
    return ring;
  };

  /** The database's salt (created on first use with `create`), after checking the key against it. */
  const databaseSalt = async (q: Kysely<Database>, create: boolean): Promise<string | undefined> => {
    if (salt) return salt;
    const key = requireKey();
    let stored = await readKeyCheck(q);
    if (!stored && create) {
      const check = JSON.stringify(key.seal(KEY_CHECK, newSalt().toString("base64")));
      await q
        .insertInto("settings")
        .values({ key: KEY_SETTING, value: check, updated_at: now() })
        .onConflict((oc) => oc.column("key").doNothing())
        .execute();
      stored = await readKeyCheck(q); // the first replica's check wins a race
    }
    if (!stored) return undefined;
    const opened = stored.key === "master_key" ? key.open(stored) : undefined;
    if (opened && !opened.ok && opened.reason === "wrong_key") {
      throw new VaultUnusable(
        "GIMO_MASTER_KEY does not match the key the database's secrets were stored with: every replica " +
          "needs the same GIMO_MASTER_KEY — restore the one first used",
      );
    }
    if (!opened?.ok || opened.plaintext !== KEY_CHECK) {
      throw new VaultUnusable(`the vault's key check in the database (settings ${KEY_SETTING}) was modified`);
    }
    salt = stored.salt;
    return salt;
  };

  const openRow = async (name: string, sealed: string): Promise<string> => {
    const key = requireKey();
    await databaseSalt(db, false);
    const envelope = decodeSealed(sealed);
    const opened = envelope?.key === "master_key" ? key.open(envelope) : undefined;
    if (!opened?.ok) {
      throw new VaultUnusable(
        opened?.reason === "wrong_key"
          ? `the vault's secret ${name} was sealed with a different GIMO_MASTER_KEY: restore that key, or provide the secret again`
          : `the vault's secret ${name} in the database failed its integrity check: it was modified`,
      );
    }
    const secret = JSON.parse(opened.plaintext) as { name?: unknown; value?: unknown };
    if (secret.name !== name || typeof secret.value !== "string") {
      throw new VaultUnusable(
        `the vault's secret ${name} in the database was modified: it belongs to another name`,
      );
    }
    return secret.value;
  };

  const has = async (name: string) =>
    (await db.selectFrom("vault_secrets").select("name").where("name", "=", name).executeTakeFirst()) !==
    undefined;

  const set = async (name: string, value: string, tx?: Kysely<Database>) => {
    checkSecret(name, value);
    const q = tx ?? db;
    const sealed = sealValueWith(
      requireKey(),
      JSON.stringify({ name, value }),
      (await databaseSalt(q, true)) ?? "",
    );
    const at = now();
    await q
      .insertInto("vault_secrets")
      .values({ name, sealed, updated_at: at })
      .onConflict((oc) => oc.column("name").doUpdateSet({ sealed, updated_at: at }))
      .execute();
  };

  /** Moves the secrets of an older file vault in the data dir into the database. */
  const importFile = async () => {
    const file = join(dataDir, vaultFileName);
    const source = fileVaultKeySource(dataDir);
    const old = openFileVault({
      dataDir,
      masterKey: source === "master_key" ? options.masterKey : undefined,
    });
    const imported: string[] = [];
    const kept: string[] = [];
    for (const name of await old.names()) {
      const value = await old.get(name);
      if ((await has(name)) || value === undefined) kept.push(name);
      else {
        await set(name, value);
        imported.push(name);
      }
    }
    renameSync(file, `${file}.imported-${now().replace(/[:.]/g, "-")}`);
    return { imported, kept };
  };

  return {
    kind: "database",
    get: async (name) => {
      const row = await db
        .selectFrom("vault_secrets")
        .select("sealed")
        .where("name", "=", name)
        .executeTakeFirst();
      return row ? openRow(name, row.sealed) : undefined;
    },
    has,
    set,
    delete: async (name) => {
      const result = await db.deleteFrom("vault_secrets").where("name", "=", name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    names: async () =>
      (await db.selectFrom("vault_secrets").select("name").orderBy("name").execute()).map((r) => r.name),
    sealValue: async (value) => sealValueWith(requireKey(), value, (await databaseSalt(db, true)) ?? ""),
    openValue: async (sealed) => openValueWith(sealed, ring ? [ring, legacy] : [legacy]),
    needsReseal: (sealed) => ring !== undefined && decodeSealed(sealed)?.key === "key_file",
    prepare: async (sealedInConfiguration) => {
      const fileThere = existsSync(join(dataDir, vaultFileName));
      if (!ring) {
        const rows = await db
          .selectFrom("vault_secrets")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow();
        const held = [
          Number(rows.n) > 0 ? `${rows.n} secret(s) in the vault` : "",
          sealedInConfiguration > 0 ? `${sealedInConfiguration} sealed secret(s) in the configuration` : "",
          fileThere ? `a file vault to move in (${join(dataDir, vaultFileName)})` : "",
        ].filter((what) => what !== "");
        if (held.length === 0 && (await readKeyCheck(db)))
          held.push("a vault key check (a key was used before)");
        if (held.length > 0) {
          throw new VaultUnusable(
            `GIMO_MASTER_KEY is required with DATABASE_URL once secrets are stored, and there are: ${held.join(", ")}. ` +
              "Set GIMO_MASTER_KEY — the same value on every replica — and start again",
          );
        }
        return { imported: [], kept: [] };
      }
      await databaseSalt(db, false); // checks the key when secrets were stored under one
      return fileThere ? importFile() : { imported: [], kept: [] };
    },
  };
}

async function readKeyCheck(db: Kysely<Database>): Promise<Envelope | undefined> {
  const stored = await readSetting<unknown>(db, KEY_SETTING);
  if (stored === undefined) return undefined;
  if (!isEnvelope(stored)) {
    throw new VaultUnusable(`the vault's key check in the database (settings ${KEY_SETTING}) was modified`);
  }
  return stored;
}
