import type { Principal } from "../core/roles.ts";
import type { Env } from "../secrets/references.ts";
import { type CredentialRequest, type CredentialRequests, credentialRequests } from "../secrets/requests.ts";
import type { Vault } from "../secrets/vault.ts";
import type { AppContext } from "./context.ts";
import type { ProviderService } from "./providers.ts";

/**
 * Credential requests (`REQ-001`…): one per `${VAR}` anything in the configuration refers to —
 * the providers, and every project's forge token and model overrides. `WAITING` until a value is in
 * the environment or the vault; `PUT /ops/requests/{id}` stores one in the vault. Values go in,
 * never out: not in responses, not in events, not in logs (they join the redactor at once).
 */
export class CredentialService {
  readonly #ctx: AppContext;
  readonly #providers: ProviderService;
  readonly #requests: CredentialRequests;
  readonly #vault: Vault;
  readonly #env: Env;

  constructor(ctx: AppContext, providers: ProviderService, vault: Vault, env: Env) {
    this.#ctx = ctx;
    this.#providers = providers;
    this.#vault = vault;
    this.#env = env;
    this.#requests = credentialRequests({ dataDir: ctx.config.dataDir, vault, env });
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
      const request = await this.#requests.provide(id, value);
      w.emit("credential.provided", id, { name: request.name });
      return request;
    });
  }

  async #configuration(): Promise<unknown> {
    const projects = await this.#ctx.store.db.selectFrom("projects").select("config").execute();
    return { providers: await this.#providers.stored(), projects: projects.map((p) => JSON.parse(p.config)) };
  }
}
