import { readFileSync } from "node:fs";
import { z } from "@hono/zod-openapi";
import type { Kysely } from "kysely";
import { GimoError } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { ProviderConfig, publicProviderConfig } from "../llm/config.ts";
import type { HealthResult, LlmProvider } from "../llm/port.ts";
import { createProvider, type ProviderDeps } from "../llm/providers.ts";
import { checkAgentCli } from "../runner/agent-cli/registry.ts";
import { type Env, findReferences, resolveWithSecrets, SecretMissing } from "../secrets/references.ts";
import type { Vault } from "../secrets/vault.ts";
import type { Database } from "../store/schema.ts";
import { readSetting, writeSetting } from "../store/settings.ts";
import type { AppContext } from "./context.ts";
import { openSealed, type Seal, sealProvider, sealStored } from "./sealing.ts";

/**
 * The two model roles, `planner` and `executor` (SPEC §8): configured server-wide with
 * `PUT /ops/provider` (or `GIMO_PROVIDERS_FILE` at start), overridable per project. Stored with
 * their `${VAR}` references, and literal secrets sealed with the vault's key (sealing.ts); secrets
 * are opened and resolved at call time (environment, then vault), the values registered with the
 * redactor, and never written anywhere in clear.
 */
export const providerRoles = ["planner", "executor"] as const;
export type ProviderRole = (typeof providerRoles)[number];

export const ProviderSettings = z
  .object({ planner: ProviderConfig.optional(), executor: ProviderConfig.optional() })
  .strict()
  .openapi("ProviderSettings");
export type ProviderSettings = z.infer<typeof ProviderSettings>;

const KEY = "providers";
const REDACTED = "[redacted]";

export class ProviderService {
  readonly #ctx: AppContext;
  readonly #vault: Vault;
  readonly #env: Env;
  readonly #deps: ProviderDeps;
  readonly #seal: Seal;

  constructor(ctx: AppContext, vault: Vault, env: Env, deps: ProviderDeps = {}) {
    this.#ctx = ctx;
    this.#vault = vault;
    this.#seal = (value) => vault.sealValue(value);
    this.#env = env;
    this.#deps = deps;
  }

  /** The stored settings; pass the transaction when reading inside one (SQLite has one connection). */
  async stored(db: Kysely<Database> = this.#ctx.store.db): Promise<ProviderSettings> {
    return (await readSetting<ProviderSettings>(db, KEY)) ?? {};
  }

  /** What clients may see: `${VAR}` references as written, literal keys as `[redacted]`. */
  async view(): Promise<Record<ProviderRole, (ProviderConfig & { api_key_set: boolean }) | null>> {
    const settings = await this.stored();
    const show = (c: ProviderConfig | undefined) =>
      c ? { ...publicProviderConfig(c), api_key_set: c.api_key !== undefined } : null;
    return { planner: show(settings.planner), executor: show(settings.executor) };
  }

  /**
   * Replaces the configuration of the roles given. A value sent back as `[redacted]` (as the
   * view shows it) keeps the stored secret, so a client can round-trip what it read.
   */
  async put(principal: Principal, input: ProviderSettings): Promise<ProviderSettings> {
    for (const role of providerRoles) {
      const given = input[role];
      if (given?.type === "agent_cli") checkAgentCli(given);
    }
    return this.#ctx.store.write(principal, async (w) => {
      const current = (await readSetting<ProviderSettings>(w.tx, KEY)) ?? {};
      const next: ProviderSettings = { ...current };
      for (const role of providerRoles) {
        const given = input[role];
        if (given) next[role] = await sealProvider(keepRedacted(given, current[role]), this.#seal);
      }
      await writeSetting(w.tx, KEY, next, w.now);
      w.emit("provider.updated", "provider", {
        roles: providerRoles.filter((r) => input[r] !== undefined),
        types: Object.fromEntries(providerRoles.map((r) => [r, next[r]?.type ?? null])),
      });
      return next;
    });
  }

  /** Loads `GIMO_PROVIDERS_FILE` (JSON `{planner?, executor?}`) at start. */
  async loadFile(principal: Principal, path: string): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new Error(
        `GIMO_PROVIDERS_FILE ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const settings = ProviderSettings.safeParse(parsed);
    if (!settings.success) {
      throw new Error(
        `GIMO_PROVIDERS_FILE ${path}: ${settings.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    }
    await this.put(principal, settings.data);
  }

  /** Every `${VAR}` the provider configuration refers to (for credential requests). */
  async references(): Promise<string[]> {
    return findReferences(await this.stored());
  }

  /** The role's configuration for a project: the project's own, else the server's. */
  async configFor(role: ProviderRole, projectOverride?: ProviderConfig): Promise<ProviderConfig> {
    const config = projectOverride ?? (await this.stored())[role];
    if (!config) {
      throw new GimoError("unavailable", `no ${role} model is configured: set one with PUT /ops/provider`, {
        role,
      });
    }
    return config;
  }

  /** A configuration with its `${VAR}` references resolved (and their values registered for redaction). */
  async resolveConfig(config: ProviderConfig): Promise<ProviderConfig> {
    return this.#resolve(config);
  }

  /**
   * The one way a stored value becomes usable: sealed literals opened (sealing.ts), then `${VAR}`
   * references resolved (environment, then vault); every secret it used joins the redactor.
   */
  async #resolve<T>(stored: T): Promise<T> {
    const opened = await openSealed(stored, this.#vault);
    const { value, secrets } = await resolveWithSecrets(opened.value, this.#env, this.#vault);
    for (const secret of [...opened.secrets, ...secrets]) this.#ctx.redactor.add(secret);
    return value;
  }

  /** At start: seals what an older GIMO stored in clear, and registers every sealed secret (sealing.ts). */
  sealStored(): Promise<void> {
    return sealStored(this.#ctx, this.#vault);
  }

  /** A ready provider for the role, secrets resolved (and registered for redaction). */
  async provider(role: ProviderRole, projectOverride?: ProviderConfig): Promise<LlmProvider> {
    const config = await this.configFor(role, projectOverride);
    if (config.type === "agent_cli") {
      throw new GimoError("unprocessable", `the ${role} is an agent CLI; it cannot plan`, { role });
    }
    return createProvider(await this.#resolve(config), this.#deps);
  }

  /** Resolves a value that may hold `${VAR}` references (a forge token), registering secrets for redaction. */
  async resolveReference(reference: string): Promise<string | undefined> {
    try {
      const value = await this.#resolve(reference);
      this.#ctx.redactor.add(value);
      return value;
    } catch {
      return undefined;
    }
  }

  /** Checks each configured role: a models list or a minimal call, with latency. */
  async health(): Promise<Record<ProviderRole, (HealthResult & { type: string; model: string }) | null>> {
    const settings = await this.stored();
    const check = async (role: ProviderRole) => {
      const config = settings[role];
      if (!config) return null;
      const base = { type: config.type, model: config.model };
      if (config.type === "agent_cli")
        return { ...base, ok: true, latency_ms: 0, detail: "agent CLI: checked by the runner" };
      try {
        const provider = await this.provider(role);
        const result = await provider.health(AbortSignal.timeout(15_000));
        return {
          ...base,
          ...result,
          detail: result.detail ? this.#ctx.redactor.redact(result.detail) : result.detail,
        };
      } catch (error) {
        const detail =
          error instanceof SecretMissing || error instanceof GimoError ? error.message : String(error);
        return { ...base, ok: false, latency_ms: 0, detail: this.#ctx.redactor.redact(detail) };
      }
    };
    const [planner, executor] = await Promise.all([check("planner"), check("executor")]);
    return { planner, executor };
  }
}

function keepRedacted(given: ProviderConfig, stored: ProviderConfig | undefined): ProviderConfig {
  const next: ProviderConfig = { ...given };
  if (given.api_key === REDACTED) {
    if (stored?.api_key === undefined)
      throw new GimoError("validation_failed", "api_key is [redacted] but none is stored");
    next.api_key = stored.api_key;
  }
  const headers = given.options?.headers;
  if (headers && Object.values(headers).includes(REDACTED)) {
    const old = stored?.options?.headers ?? {};
    next.options = {
      ...given.options,
      headers: Object.fromEntries(
        Object.entries(headers).map(([k, v]) => [k, v === REDACTED ? (old[k] ?? v) : v]),
      ),
    };
  }
  return next;
}
