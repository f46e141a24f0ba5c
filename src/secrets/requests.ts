import type { Kysely } from "kysely";
import { GimoError, notFound } from "../core/errors.ts";
import type { Database } from "../store/schema.ts";
import { type Env, findReferences } from "./references.ts";
import type { RequestNumbers } from "./request-numbers.ts";
import type { Vault } from "./vault.ts";

/**
 * Credential requests (SPEC §1, §3 `/ops/requests`): one per variable the configuration refers to
 * (`${OPENAI_API_KEY}`), `WAITING` until a value exists in the environment or the vault, then
 * `PROVIDED`. Values are never returned, only where one was found.
 *
 * Ids are `REQ-001`, `REQ-002`…: new names get the next numbers in sorted order, and a number, once
 * given, stays with its name (request-numbers.ts), so ids do not shift when the configuration changes.
 */
export type CredentialStatus = "WAITING" | "PROVIDED";

export interface CredentialRequest {
  id: string;
  name: string;
  status: CredentialStatus;
  /** Where the value was found; never the value. */
  source: "env" | "vault" | null;
}

export interface CredentialRequests {
  /** The requests for every variable `config` refers to (at any depth), by id. */
  list(config: unknown): Promise<CredentialRequest[]>;
  /** Stores a value for the request's variable in the vault (in `tx` with the database vault). */
  provide(id: string, value: string, tx?: Kysely<Database>): Promise<CredentialRequest>;
}

export interface CredentialRequestsOptions {
  numbers: RequestNumbers;
  vault: Vault;
  env: Env;
}

const idPattern = /^REQ-(\d{3,})$/;

export function formatRequestId(n: number): string {
  return `REQ-${String(n).padStart(3, "0")}`;
}

export function credentialRequests(options: CredentialRequestsOptions): CredentialRequests {
  /** `inVault`: known to be in the vault (just stored, maybe in a transaction not committed yet). */
  const describe = async (name: string, n: number, inVault?: true): Promise<CredentialRequest> => {
    const env = options.env[name];
    const vaulted = inVault ?? (await options.vault.has(name));
    const source = env !== undefined && env !== "" ? "env" : vaulted ? "vault" : null;
    return { id: formatRequestId(n), name, status: source ? "PROVIDED" : "WAITING", source };
  };

  return {
    async list(config) {
      const names = findReferences(config);
      const assigned = await options.numbers.assign(names);
      const requests = await Promise.all(names.map((name) => describe(name, assigned[name] ?? 0)));
      return requests.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
    },

    async provide(id, value, tx) {
      const n = Number(idPattern.exec(id)?.[1] ?? Number.NaN);
      const name = Object.entries(await options.numbers.all()).find(([, number]) => number === n)?.[0];
      if (name === undefined) throw notFound("credential request", id);
      if (value === "") throw new GimoError("validation_failed", `a value for ${name} must not be empty`);
      await options.vault.set(name, value, tx);
      return describe(name, n, true);
    },
  };
}
