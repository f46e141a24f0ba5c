import type { IntegrationConfig } from "../contract/integration.ts";
import type { ProjectConfig } from "../contract/project.ts";
import { systemPrincipal } from "../core/roles.ts";
import type { ProviderConfig } from "../llm/config.ts";
import { isLiteralSecret, isSealed } from "../secrets/sealed.ts";
import type { Vault } from "../secrets/vault.ts";
import { readSetting, writeSetting } from "../store/settings.ts";
import type { AppContext } from "./context.ts";

/**
 * Literal secrets in the configuration are sealed at rest (SPEC §8: no secret is stored in clear).
 *
 * A secret written as a `${VAR}` reference is stored as written: it names a secret, it is not
 * one. A secret written as the value itself is sealed with the vault's key (secrets/sealed.ts)
 * before it reaches the database, and opened only where it is used (ProviderService, at call
 * time). The fields that hold secrets are the ones `GET /ops/provider` and the project view hide:
 *   - a provider's `api_key` and `options.headers` values (server-wide and per-project overrides),
 *   - a project's `forge.token`,
 *   - an integration's `headers` values and its stdio server's `env` values.
 * Already sealed values are kept as they are, so sealing is idempotent. `sealStored` seals, at
 * start, what an older GIMO stored in clear, and seals again what was sealed under a key the vault
 * now only reads (on PostgreSQL: values sealed with an older data dir's key file, before the vault
 * moved into the database under GIMO_MASTER_KEY).
 */
export type Seal = (value: string) => Promise<string>;

const sealIfLiteral = async (value: string | undefined, seal: Seal) =>
  isLiteralSecret(value) ? seal(value) : value;

export async function sealProvider(config: ProviderConfig, seal: Seal): Promise<ProviderConfig> {
  const next: ProviderConfig = { ...config };
  if (config.api_key !== undefined) next.api_key = await sealIfLiteral(config.api_key, seal);
  const headers = config.options?.headers;
  if (headers) {
    const sealed: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers))
      sealed[name] = (await sealIfLiteral(value, seal)) ?? value;
    next.options = { ...config.options, headers: sealed };
  }
  return next;
}

export async function sealProject(config: ProjectConfig, seal: Seal): Promise<ProjectConfig> {
  const next: ProjectConfig = { ...config };
  if (config.forge?.token !== undefined)
    next.forge = { ...config.forge, token: await sealIfLiteral(config.forge.token, seal) };
  if (config.planner) next.planner = await sealProvider(config.planner, seal);
  if (config.executor) next.executor = await sealProvider(config.executor, seal);
  return next;
}

async function sealValues(values: Record<string, string>, seal: Seal): Promise<Record<string, string>> {
  const sealed: Record<string, string> = {};
  for (const [name, value] of Object.entries(values))
    sealed[name] = (await sealIfLiteral(value, seal)) ?? value;
  return sealed;
}

export async function sealIntegration(config: IntegrationConfig, seal: Seal): Promise<IntegrationConfig> {
  const next: IntegrationConfig = { ...config, headers: await sealValues(config.headers, seal) };
  if (config.stdio) next.stdio = { ...config.stdio, env: await sealValues(config.stdio.env, seal) };
  return next;
}

/** A deep copy of `value` with every sealed string opened, and the secrets it opened. */
export async function openSealed<T>(value: T, vault: Vault): Promise<{ value: T; secrets: string[] }> {
  const secrets: string[] = [];
  const map = async (v: unknown): Promise<unknown> => {
    if (isSealed(v)) {
      const opened = await vault.openValue(v);
      secrets.push(opened);
      return opened;
    }
    if (Array.isArray(v)) return Promise.all(v.map(map));
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) out[key] = await map(item);
    return out;
  };
  return { value: (await map(value)) as T, secrets };
}

/** A deep copy of `value` with every sealed string the vault only reads sealed again under its key. */
async function resealOld<T>(value: T, vault: Vault): Promise<T> {
  const map = async (v: unknown): Promise<unknown> => {
    if (isSealed(v)) return vault.needsReseal(v) ? vault.sealValue(await vault.openValue(v)) : v;
    if (Array.isArray(v)) return Promise.all(v.map(map));
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) out[key] = await map(item);
    return out;
  };
  return (await map(value)) as T;
}

/** Every sealed value at any depth of `value`, opened (for the redactor). */
export async function openedSecrets(value: unknown, vault: Vault): Promise<string[]> {
  return (await openSealed(value, vault)).secrets;
}

/**
 * At start: seals the literal secrets an older GIMO stored in clear (the provider settings and
 * every project's configuration), in one write with a `secrets.sealed` event (audit-only), and
 * registers every sealed secret with the redactor, so none can be echoed before its first use.
 */
export async function sealStored(ctx: AppContext, vault: Vault): Promise<void> {
  const seal: Seal = (value) => vault.sealValue(value);
  await ctx.store.write(
    systemPrincipal,
    async (w) => {
      const providers = await readSetting<Record<string, ProviderConfig>>(w.tx, "providers");
      let providersSealed = false;
      if (providers) {
        const next: Record<string, ProviderConfig> = {};
        for (const [role, config] of Object.entries(providers))
          next[role] = await sealProvider(await resealOld(config, vault), seal);
        if (JSON.stringify(next) !== JSON.stringify(providers)) {
          await writeSetting(w.tx, "providers", next, w.now);
          providersSealed = true;
        }
      }
      const projects: string[] = [];
      for (const { id } of await w.tx.selectFrom("projects").select("id").orderBy("id").execute()) {
        // Read-modify-write of the config, as an edit does: under the project's gate.
        await w.lockProject(id, "exclusive");
        const row = await w.tx
          .selectFrom("projects")
          .select(["id", "config"])
          .where("id", "=", id)
          .executeTakeFirst();
        if (!row) continue; // deleted by another replica meanwhile
        const config = JSON.parse(row.config) as ProjectConfig;
        const next = await sealProject(await resealOld(config, vault), seal);
        if (JSON.stringify(next) === JSON.stringify(config)) continue;
        await w.tx
          .updateTable("projects")
          .set({ config: JSON.stringify(next) })
          .where("id", "=", row.id)
          .execute();
        projects.push(row.id);
      }
      if (providersSealed || projects.length > 0)
        w.emit("secrets.sealed", "configuration", { providers: providersSealed, projects });
    },
    { allowInPanic: true },
  );
  const configs = [
    await readSetting(ctx.store.db, "providers"),
    ...(await ctx.store.db.selectFrom("projects").select("config").execute()).map((r) =>
      JSON.parse(r.config),
    ),
    ...(await ctx.store.db.selectFrom("integrations").select("config").execute()).map((r) =>
      JSON.parse(r.config),
    ),
  ];
  try {
    for (const secret of await openedSecrets(configs, vault)) ctx.redactor.add(secret);
  } catch {
    // A key that cannot open them: each use will say so (VaultUnusable); the server still starts.
  }
}
