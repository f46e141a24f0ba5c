import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GimoError, notFound } from "../core/errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { type Env, findReferences } from "./references.ts";
import type { Vault } from "./vault.ts";

/**
 * Credential requests (SPEC §1, §3 `/ops/requests`): one per variable the configuration refers to
 * (`${OPENAI_API_KEY}`), `WAITING` until a value exists in the environment or the vault, then
 * `PROVIDED`. Values are never returned, only where one was found.
 *
 * Ids are `REQ-001`, `REQ-002`…: new names get the next numbers in sorted order, and a number, once
 * given, stays with its name (kept in `<dataDir>/credential-requests.json`), so ids do not shift
 * when the configuration changes.
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
  /** Stores a value for the request's variable in the vault. */
  provide(id: string, value: string): Promise<CredentialRequest>;
}

export interface CredentialRequestsOptions {
  dataDir: string;
  vault: Vault;
  env: Env;
}

export const requestsFileName = "credential-requests.json";
const idPattern = /^REQ-(\d{3,})$/;

export function formatRequestId(n: number): string {
  return `REQ-${String(n).padStart(3, "0")}`;
}

export function credentialRequests(options: CredentialRequestsOptions): CredentialRequests {
  const file = join(options.dataDir, requestsFileName);

  const numbers = (): Record<string, number> => {
    if (!existsSync(file)) return {};
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as { numbers?: Record<string, number> };
      return parsed.numbers ?? {};
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new GimoError(
        "internal",
        `${file} is unreadable (${why}); fix or remove it to renumber requests`,
      );
    }
  };

  /** Numbers for `names`, assigning new ones (in sorted order) and saving them. Synchronous on purpose. */
  const assign = (names: string[]): Record<string, number> => {
    const current = numbers();
    const fresh = names.filter((name) => current[name] === undefined).sort();
    if (fresh.length === 0) return current;
    let next = Math.max(0, ...Object.values(current)) + 1;
    const updated = { ...current };
    for (const name of fresh) updated[name] = next++;
    writeFileAtomic(file, `${JSON.stringify({ version: 1, numbers: updated }, null, 2)}\n`);
    return updated;
  };

  const describe = async (name: string, n: number): Promise<CredentialRequest> => {
    const env = options.env[name];
    const source = env !== undefined && env !== "" ? "env" : (await options.vault.has(name)) ? "vault" : null;
    return { id: formatRequestId(n), name, status: source ? "PROVIDED" : "WAITING", source };
  };

  return {
    async list(config) {
      const names = findReferences(config);
      const assigned = assign(names);
      const requests = await Promise.all(names.map((name) => describe(name, assigned[name] ?? 0)));
      return requests.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
    },

    async provide(id, value) {
      const n = Number(idPattern.exec(id)?.[1] ?? Number.NaN);
      const name = Object.entries(numbers()).find(([, number]) => number === n)?.[0];
      if (name === undefined) throw notFound("credential request", id);
      if (value === "") throw new GimoError("validation_failed", `a value for ${name} must not be empty`);
      await options.vault.set(name, value);
      return describe(name, n);
    },
  };
}
