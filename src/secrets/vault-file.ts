import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import { checkSecret, type Vault, VaultUnusable, vaultFileName, vaultKeyFileName } from "./vault.ts";
import { type Envelope, isEnvelope, type KeySource, newSalt } from "./vault-crypto.ts";
import { keyRing, openValueWith, sealValueWith } from "./vault-keys.ts";

/**
 * The vault in the data dir — the embedded default (SQLite): named secrets in one file,
 * `<dataDir>/vault.json`, encrypted with AES-256-GCM (vault-crypto.ts), mode 0600, replaced
 * atomically on every write. Its key comes from `GIMO_MASTER_KEY` when set, else from
 * `<dataDir>/vault.key` (32 random bytes, created 0600 on first write).
 *
 * Every operation reads and writes synchronously inside its call, so two calls in one process
 * cannot interleave a read-modify-write. One process owns the file: replicas sharing PostgreSQL
 * use the database vault instead (vault-database.ts), which moves such a file in at start.
 */
export interface FileVaultOptions {
  dataDir: string;
  /** `GIMO_MASTER_KEY`; undefined means use (or create) the key file. */
  masterKey?: string | undefined;
}

export function openFileVault(options: FileVaultOptions): Vault {
  const file = join(options.dataDir, vaultFileName);
  const keyFile = join(options.dataDir, vaultKeyFileName);
  const ring = keyRing({ masterKey: options.masterKey, keyFile });

  const read = (): { secrets: Record<string, string>; salt: string | undefined } => {
    if (!existsSync(file)) return { secrets: {}, salt: undefined };
    const envelope = readEnvelope(file);
    if (envelope.key !== ring.source) throw new VaultUnusable(keySourceMismatch(file, envelope.key));
    const opened = ring.open(envelope);
    if (!opened.ok) {
      throw new VaultUnusable(
        opened.reason === "wrong_key"
          ? `the vault ${file} was sealed with a different ${ring.label}: restore the key it was created with`
          : `the vault ${file} failed its integrity check: the file was modified or is corrupted`,
      );
    }
    return { secrets: JSON.parse(opened.plaintext) as Record<string, string>, salt: envelope.salt };
  };

  const write = (secrets: Record<string, string>, salt: string | undefined) => {
    const envelope = ring.seal(JSON.stringify(secrets), salt ?? newSalt().toString("base64"));
    writeFileAtomic(file, `${JSON.stringify(envelope, null, 2)}\n`);
  };

  // Values sealed by this process share one salt, so the master key is stretched once for them.
  let valueSalt: string | undefined;

  return {
    kind: "file",
    sealValue: async (value) => {
      valueSalt ??= newSalt().toString("base64");
      return sealValueWith(ring, value, valueSalt);
    },
    openValue: async (sealed) => openValueWith(sealed, [ring]),
    needsReseal: () => false,
    prepare: async () => ({ imported: [], kept: [] }),
    get: async (name) => read().secrets[name],
    has: async (name) => Object.hasOwn(read().secrets, name),
    names: async () => Object.keys(read().secrets).sort(),
    set: async (name, value) => {
      checkSecret(name, value);
      const { secrets, salt } = read();
      write({ ...secrets, [name]: value }, salt);
    },
    delete: async (name) => {
      const { secrets, salt } = read();
      if (!Object.hasOwn(secrets, name)) return false;
      const { [name]: _removed, ...rest } = secrets;
      write(rest, salt);
      return true;
    },
  };
}

/** The key a vault file was sealed with, or undefined when there is no file. */
export function fileVaultKeySource(dataDir: string): KeySource | undefined {
  const file = join(dataDir, vaultFileName);
  return existsSync(file) ? readEnvelope(file).key : undefined;
}

function readEnvelope(file: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new VaultUnusable(`the vault ${file} cannot be read (${why}): it was modified or is corrupted`);
  }
  if (!isEnvelope(value)) {
    throw new VaultUnusable(`the vault ${file} is not a GIMO vault file: it was modified or is corrupted`);
  }
  return value;
}

function keySourceMismatch(file: string, sealedWith: KeySource): string {
  return sealedWith === "master_key"
    ? `the vault ${file} is sealed with GIMO_MASTER_KEY, which is not set: set it to open the vault`
    : `the vault ${file} is sealed with its key file (${vaultKeyFileName}), but GIMO_MASTER_KEY is set: ` +
        "unset GIMO_MASTER_KEY to open it";
}
