import type { Kysely } from "kysely";
import { GimoError } from "../core/errors.ts";
import type { Database } from "../store/schema.ts";
import type { SecretSource } from "./references.ts";

/**
 * The vault: named secrets, encrypted at rest with AES-256-GCM (vault-crypto.ts). One port, two
 * implementations:
 *
 *   - in the data dir (vault-file.ts): the embedded default on SQLite — one file, its key from
 *     `GIMO_MASTER_KEY` or a key file beside it;
 *   - in the database (vault-database.ts): on PostgreSQL, so every replica sharing the database
 *     resolves the same secrets — one encrypted row per secret under `GIMO_MASTER_KEY`, which is
 *     then required as soon as anything is stored.
 *
 * Values go in and are used; the API never lists them. A wrong key and a modified store are told
 * apart and reported as `VaultUnusable` with a message that says what to do.
 *
 * The same key also seals single values kept elsewhere (`sealValue`/`openValue`, sealed.ts): the
 * literal secrets of the provider and project configuration in the database.
 */
export interface Vault extends SecretSource {
  /** Where the secrets live. */
  readonly kind: "file" | "database";
  get(name: string): Promise<string | undefined>;
  has(name: string): Promise<boolean>;
  /** Stores a secret; `tx` (the database vault) writes it in the caller's transaction. */
  set(name: string, value: string, tx?: Kysely<Database>): Promise<void>;
  delete(name: string): Promise<boolean>;
  /** Names of the stored secrets, sorted. */
  names(): Promise<string[]>;
  /** A literal secret sealed for storage elsewhere (sealed.ts), under the vault's key. */
  sealValue(value: string): Promise<string>;
  /** The secret inside a sealed value; `VaultUnusable` when the key or the value is wrong. */
  openValue(sealed: string): Promise<string>;
  /** Whether a sealed value is under a key this vault only reads (it should be sealed again). */
  needsReseal(sealed: string): boolean;
  /**
   * At start, before anything is served: checks the key against what is stored (and refuses to
   * start without one when something is), and moves older secrets in. `sealedInConfiguration` is
   * how many sealed values the stored configuration holds.
   */
  prepare(sealedInConfiguration: number): Promise<VaultPrepared>;
}

/** What `prepare` did: secrets moved in from an older file vault, and names it kept as they were. */
export interface VaultPrepared {
  imported: string[];
  kept: string[];
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

/** A secret's name and value as the vault accepts them (a 400 otherwise). */
export function checkSecret(name: string, value: string): void {
  if (!namePattern.test(name)) {
    throw new GimoError("validation_failed", "a secret name is a letter or _, then letters, digits or _");
  }
  if (value === "") throw new GimoError("validation_failed", `the value of ${name} is empty`);
}
