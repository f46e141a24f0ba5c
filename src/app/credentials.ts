import { type Principal, systemPrincipal } from "../core/roles.ts";
import type { Env } from "../secrets/references.ts";
import {
  databaseRequestNumbers,
  fileRequestNumbers,
  type RequestNumbers,
} from "../secrets/request-numbers.ts";
import { type CredentialRequest, type CredentialRequests, credentialRequests } from "../secrets/requests.ts";
import { isSealed } from "../secrets/sealed.ts";
import type { Vault, VaultPrepared } from "../secrets/vault.ts";
import { openDatabaseVault } from "../secrets/vault-database.ts";
import { openFileVault } from "../secrets/vault-file.ts";
import type { AppContext } from "./context.ts";
import type { ProviderService } from "./providers.ts";

/**
 * Credential requests (`REQ-001`…): one per `${VAR}` anything in the configuration refers to —
 * the providers, and every project's forge token and model overrides. `WAITING` until a value is in
 * the environment or the vault; `PUT /ops/requests/{id}` stores one in the vault. Values go in,
 * never out: not in responses, not in events, not in logs (they join the redactor at once).
 *
 * Where secrets and request numbers live (`secretStores`): on PostgreSQL in the database, so every
 * replica sees what one was given; on SQLite in the data dir, GIMO's embedded default.
 */
export interface SecretStores {
  vault: Vault;
  numbers: RequestNumbers;
}

export function secretStores(ctx: AppContext): SecretStores {
  const { dataDir, masterKey } = ctx.config;
  if (ctx.store.shared) {
    return {
      vault: openDatabaseVault({ db: ctx.store.db, dataDir, masterKey }),
      numbers: databaseRequestNumbers(ctx.store.db, dataDir),
    };
  }
  return { vault: openFileVault({ dataDir, masterKey }), numbers: fileRequestNumbers(dataDir) };
}

export class CredentialService {
  readonly #ctx: AppContext;
  readonly #providers: ProviderService;
  readonly #requests: CredentialRequests;
  readonly #vault: Vault;
  readonly #numbers: RequestNumbers;
  readonly #env: Env;

  constructor(ctx: AppContext, providers: ProviderService, stores: SecretStores, env: Env) {
    this.#ctx = ctx;
    this.#providers = providers;
    this.#vault = stores.vault;
    this.#numbers = stores.numbers;
    this.#env = env;
    this.#requests = credentialRequests({ numbers: stores.numbers, vault: stores.vault, env });
  }

  /**
   * At start, before anything is served: the vault checks its key against what is stored (on
   * PostgreSQL, refusing to start without GIMO_MASTER_KEY once anything is), and secrets and
   * request numbers an older GIMO kept in the data dir move into the database — recorded as one
   * audit-only `secrets.imported` event naming them.
   */
  async prepare(): Promise<VaultPrepared> {
    const prepared = await this.#vault.prepare(countSealed(await this.#configuration()));
    await this.#numbers.prepare();
    if (prepared.imported.length > 0 || prepared.kept.length > 0) {
      await this.#ctx.store.write(
        systemPrincipal,
        async (w) => w.emit("secrets.imported", "vault", { names: prepared.imported, kept: prepared.kept }),
        { allowInPanic: true },
      );
    }
    return prepared;
  }

  /**
   * At start: every secret the server could hand out — each vault value, and each environment
   * value the configuration refers to — joins the redactor before anything can echo it.
   */
  async registerKnownSecrets(): Promise<void> {
    for (const name of await this.#vault.names()) this.#ctx.redactor.add(await this.#vault.get(name));
    for (const request of await this.list()) {
      if (request.source === "env") this.#ctx.redactor.add(this.#env[request.name]);
    }
  }

  async list(): Promise<CredentialRequest[]> {
    return this.#requests.list(await this.#configuration());
  }

  async provide(principal: Principal, id: string, value: string): Promise<CredentialRequest> {
    await this.list(); // numbers every current reference, so a fresh id resolves
    this.#ctx.redactor.add(value);
    // Inside a write, so panic mode refuses it like any other change, and it is audited.
    return this.#ctx.store.write(principal, async (w) => {
      const request = await this.#requests.provide(id, value, w.tx);
      w.emit("credential.provided", id, { name: request.name });
      return request;
    });
  }

  async #configuration(): Promise<unknown> {
    const projects = await this.#ctx.store.db.selectFrom("projects").select("config").execute();
    return { providers: await this.#providers.stored(), projects: projects.map((p) => JSON.parse(p.config)) };
  }
}

/** How many sealed values `value` holds, at any depth. */
function countSealed(value: unknown): number {
  if (isSealed(value)) return 1;
  if (value === null || typeof value !== "object") return 0;
  return Object.values(value).reduce((n: number, item) => n + countSealed(item), 0);
}
