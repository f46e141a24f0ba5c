import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic-file.ts";
import { decodeSealed, encodeSealed } from "./sealed.ts";
import { VaultUnusable, vaultKeyFileName } from "./vault.ts";
import {
  type DerivedKeys,
  deriveKeys,
  type Envelope,
  type KeySource,
  keyMaterial,
  type OpenResult,
  open,
  seal,
} from "./vault-crypto.ts";

/**
 * A vault key: `GIMO_MASTER_KEY` (stretched with scrypt over each envelope's salt) or the 32 random
 * bytes of a key file. Derived keys are cached by salt, so scrypt runs once per salt per process.
 * Both vaults (vault-file.ts, vault-database.ts) seal and open through a ring.
 */
export interface KeyRing {
  readonly source: KeySource;
  /** Seals under this key; the key file is created (0600) if it is the key and missing. */
  seal(plaintext: string, salt: string): Envelope;
  /** Opens an envelope sealed under this key source (the caller checked `envelope.key`). */
  open(envelope: Envelope): OpenResult;
  /** How to name this key in a message: `GIMO_MASTER_KEY` or `key file (<path>)`. */
  readonly label: string;
}

export function keyRing(options: { masterKey?: string | undefined; keyFile: string }): KeyRing {
  const source: KeySource = options.masterKey ? "master_key" : "key_file";
  const derived = new Map<string, DerivedKeys>();
  const keysFor = (salt: string, create: boolean): DerivedKeys => {
    const cached = derived.get(salt);
    if (cached) return cached;
    const saltBytes = Buffer.from(salt, "base64");
    const secret = options.masterKey ?? readKeyFile(options.keyFile, create);
    const keys = deriveKeys(keyMaterial(source, secret, saltBytes), saltBytes);
    derived.set(salt, keys);
    return keys;
  };
  return {
    source,
    label: source === "master_key" ? "GIMO_MASTER_KEY" : `key file (${options.keyFile})`,
    seal: (plaintext, salt) => seal(plaintext, keysFor(salt, true), source, Buffer.from(salt, "base64")),
    open: (envelope) => open(envelope, keysFor(envelope.salt, false)),
  };
}

/** A literal secret sealed under `ring` (sealed.ts). */
export function sealValueWith(ring: KeyRing, value: string, salt: string): string {
  return encodeSealed(ring.seal(value, salt));
}

/**
 * The secret inside a sealed value, opened by whichever of `rings` holds the key it was sealed
 * with (the first ring is the vault's own key, named in the messages).
 */
export function openValueWith(sealed: string, rings: KeyRing[]): string {
  const envelope = decodeSealed(sealed);
  if (!envelope)
    throw new VaultUnusable("a sealed secret in the configuration is not readable: it was modified");
  const ring = rings.find((r) => r.source === envelope.key);
  if (!ring) {
    throw new VaultUnusable(
      envelope.key === "master_key"
        ? "a sealed secret in the configuration was sealed with GIMO_MASTER_KEY, which is not set: set it"
        : `a sealed secret in the configuration was sealed with the key file (${vaultKeyFileName}), but GIMO_MASTER_KEY is set: unset it`,
    );
  }
  const opened = ring.open(envelope);
  if (!opened.ok) {
    throw new VaultUnusable(
      opened.reason === "wrong_key"
        ? `a sealed secret in the configuration was sealed with a different ${ring.label}: restore that key, or write the secret again`
        : "a sealed secret in the configuration failed its integrity check: it was modified",
    );
  }
  return opened.plaintext;
}

export function readKeyFile(path: string, create: boolean): Buffer {
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
