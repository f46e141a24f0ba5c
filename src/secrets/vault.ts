import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GimoError } from "../core/errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import type { SecretSource } from "./references.ts";
import { decodeSealed, encodeSealed } from "./sealed.ts";
import {
  type DerivedKeys,
  deriveKeys,
  type Envelope,
  isEnvelope,
  type KeySource,
  keyMaterial,
  newSalt,
  open,
  seal,
} from "./vault-crypto.ts";

/**
 * The vault: named secrets in one file, `<dataDir>/vault.json`, encrypted with AES-256-GCM
 * (src/secrets/vault-crypto.ts), mode 0600, replaced atomically on every write. Its key comes from
 * `GIMO_MASTER_KEY` when set, else from `<dataDir>/vault.key` (32 random bytes, created 0600 on
 * first write). Values go in and are used; the API never lists them. A wrong key and a modified
 * file are told apart and reported as `VaultUnusable` with a message that says what to do.
 *
 * Every operation reads and writes synchronously inside its call, so two calls in one process
 * cannot interleave a read-modify-write.
 *
 * The same key also seals single values kept elsewhere (`sealValue`/`openValue`, sealed.ts): the
 * literal secrets of the provider and project configuration in the database.
 */
export interface Vault extends SecretSource {
  get(name: string): Promise<string | undefined>;
  has(name: string): Promise<boolean>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<boolean>;
  /** Names of the stored secrets, sorted. */
  names(): Promise<string[]>;
  /** A literal secret sealed for storage elsewhere (sealed.ts), under the vault's key. */
  sealValue(value: string): Promise<string>;
  /** The secret inside a sealed value; `VaultUnusable` when the key or the value is wrong. */
  openValue(sealed: string): Promise<string>;
}

export interface VaultOptions {
  dataDir: string;
  /** `GIMO_MASTER_KEY`; undefined means use (or create) the key file. */
  masterKey?: string | undefined;
}

export class VaultUnusable extends GimoError {
  constructor(message: string) {
    super("unavailable", message);
    this.name = "VaultUnusable";
  }
}

export const vaultFileName = "vault.json";
export const vaultKeyFileName = "vault.key";
const namePattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function openVault(options: VaultOptions): Vault {
  const file = join(options.dataDir, vaultFileName);
  const keyFile = join(options.dataDir, vaultKeyFileName);
  const source: KeySource = options.masterKey ? "master_key" : "key_file";
  const derived = new Map<string, DerivedKeys>(); // by salt: scrypt runs once per process

  const keysFor = (salt: string, createKeyFile: boolean): DerivedKeys => {
    const cached = derived.get(salt);
    if (cached) return cached;
    const saltBytes = Buffer.from(salt, "base64");
    const secret = options.masterKey ?? readKeyFile(keyFile, createKeyFile);
    const keys = deriveKeys(keyMaterial(source, secret, saltBytes), saltBytes);
    derived.set(salt, keys);
    return keys;
  };

  const read = (): { secrets: Record<string, string>; salt: string | undefined } => {
    if (!existsSync(file)) return { secrets: {}, salt: undefined };
    const envelope = parseEnvelope(file);
    if (envelope.key !== source) throw new VaultUnusable(keySourceMismatch(file, envelope.key));
    const opened = open(envelope, keysFor(envelope.salt, false));
    if (!opened.ok) {
      throw new VaultUnusable(
        opened.reason === "wrong_key"
          ? `the vault ${file} was sealed with a different ${source === "master_key" ? "GIMO_MASTER_KEY" : `key file (${keyFile})`}: restore the key it was created with`
          : `the vault ${file} failed its integrity check: the file was modified or is corrupted`,
      );
    }
    return { secrets: JSON.parse(opened.plaintext) as Record<string, string>, salt: envelope.salt };
  };

  const write = (secrets: Record<string, string>, salt: string | undefined) => {
    const saltText = salt ?? newSalt().toString("base64");
    const keys = keysFor(saltText, true);
    const envelope = seal(JSON.stringify(secrets), keys, source, Buffer.from(saltText, "base64"));
    writeFileAtomic(file, `${JSON.stringify(envelope, null, 2)}\n`);
  };

  // Values sealed by this process share one salt, so the master key is stretched once for them.
  let valueSalt: string | undefined;

  return {
    sealValue: async (value) => {
      valueSalt ??= newSalt().toString("base64");
      return encodeSealed(seal(value, keysFor(valueSalt, true), source, Buffer.from(valueSalt, "base64")));
    },
    openValue: async (sealed) => {
      const envelope = decodeSealed(sealed);
      if (!envelope)
        throw new VaultUnusable("a sealed secret in the configuration is not readable: it was modified");
      if (envelope.key !== source) {
        throw new VaultUnusable(
          envelope.key === "master_key"
            ? "a sealed secret in the configuration was sealed with GIMO_MASTER_KEY, which is not set: set it"
            : `a sealed secret in the configuration was sealed with the key file (${vaultKeyFileName}), but GIMO_MASTER_KEY is set: unset it`,
        );
      }
      const opened = open(envelope, keysFor(envelope.salt, false));
      if (!opened.ok) {
        throw new VaultUnusable(
          opened.reason === "wrong_key"
            ? `a sealed secret in the configuration was sealed with a different ${source === "master_key" ? "GIMO_MASTER_KEY" : `key file (${keyFile})`}: restore that key, or write the secret again`
            : "a sealed secret in the configuration failed its integrity check: it was modified",
        );
      }
      return opened.plaintext;
    },
    get: async (name) => read().secrets[name],
    has: async (name) => Object.hasOwn(read().secrets, name),
    names: async () => Object.keys(read().secrets).sort(),
    set: async (name, value) => {
      if (!namePattern.test(name)) {
        throw new GimoError("validation_failed", "a secret name is a letter or _, then letters, digits or _");
      }
      if (value === "") throw new GimoError("validation_failed", `the value of ${name} is empty`);
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

function parseEnvelope(file: string): Envelope {
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

function readKeyFile(path: string, create: boolean): Buffer {
  if (!existsSync(path)) {
    if (!create)
      throw new VaultUnusable(`the vault's key file ${path} is missing: the vault cannot be opened`);
    try {
      writeFileAtomic(path, `${randomBytes(32).toString("base64")}\n`, { exclusive: true });
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
  }
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  if (key.length !== 32) throw new VaultUnusable(`the vault's key file ${path} does not hold a 32-byte key`);
  return key;
}
