import type { Kysely } from "kysely";
import type {
  AllowList,
  IntegrationConfig,
  IntegrationInput,
  IntegrationPatch,
  IntegrationTool,
  IntegrationView,
} from "../contract/integration.ts";
import { GimoError, notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import type { IntegrationClient, ResolvedIntegration } from "../integrations/client.ts";
import { allowedIn, type StoredAllow, type StoredOperation, toolName } from "../integrations/operations.ts";
import { type Env, resolveWithSecrets } from "../secrets/references.ts";
import type { Vault } from "../secrets/vault.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import type { Database, IntegrationsTable } from "../store/schema.ts";
import type { AppContext } from "./context.ts";
import {
  assertEndpoint,
  assertNoPanic,
  discoveredColumns,
  emitDiscovered,
  invalid,
  keepRedacted,
  loadRow,
  toolParameters,
  toView,
} from "./integration-records.ts";
import { openSealed, sealIntegration } from "./sealing.ts";

/**
 * The integrations registry (SPEC §7.6): an admin registers an OpenAPI service or an MCP server,
 * GIMO discovers its operations, the admin allow-lists some — everywhere or per project — and the
 * executor agent and the chat planner see those as tools. Calls go through the one gateway
 * (integration-gateway.ts); this service keeps the records.
 *
 * Registration discovers at once: a service that cannot be reached is refused (503) unless
 * `allow_offline: true`, which stores it `offline` until a later discovery reaches it. A
 * discovery that fails later keeps the operations found before (so the allow-list keeps its
 * meaning) and marks the integration offline. Secrets in `headers` and the stdio `env` are
 * `${VAR}` references or literals sealed at rest (sealing.ts), opened and resolved only to reach
 * the service, their values registered with the redactor; views show references as written and
 * literals as `[redacted]`, and a `[redacted]` sent back keeps the stored value.
 */

export class IntegrationService {
  readonly #ctx: AppContext;
  readonly #vault: Vault;
  readonly #env: Env;
  readonly #client: IntegrationClient;

  constructor(ctx: AppContext, vault: Vault, env: Env, client: IntegrationClient) {
    this.#ctx = ctx;
    this.#vault = vault;
    this.#env = env;
    this.#client = client;
  }

  get client(): IntegrationClient {
    return this.#client;
  }

  async create(principal: Principal, input: IntegrationInput): Promise<IntegrationView> {
    const { name, kind, ...settings } = input;
    assertEndpoint(settings);
    await assertNoPanic(this.#ctx.store.db);
    const config = await sealIntegration(settings, (v) => this.#vault.sealValue(v));
    await this.#assertNameFree(this.#ctx.store.db, name);
    const id = this.#ctx.ids("integration");
    const found = await this.#discover(id, name, kind, config);
    if (!found.ok && !settings.allow_offline) {
      throw new GimoError(
        "unavailable",
        `${name} could not be discovered: ${found.error}. Fix it, or register with allow_offline: true and discover later`,
        { name },
      );
    }
    return this.#ctx.store.write(principal, async (w) => {
      await this.#assertNameFree(w.tx, name);
      const row: IntegrationsTable = {
        id,
        name,
        kind,
        config: JSON.stringify(config),
        operations: JSON.stringify(found.ok ? found.operations : []),
        allowlist: "[]",
        status: found.ok ? "online" : "offline",
        discovery_error: found.ok ? null : found.error,
        discovered_at: found.ok ? w.now : null,
        created_by: principal.actor,
        created_at: w.now,
        updated_at: w.now,
      };
      await w.tx.insertInto("integrations").values(row).execute();
      w.emit("integration.created", id, { name, kind });
      emitDiscovered(w, row);
      return toView(row);
    });
  }

  async list(limit: number, cursor?: string): Promise<Page<IntegrationView>> {
    return keysetPage(
      this.#ctx.store.db.selectFrom("integrations").selectAll(),
      { key: "id", order: "asc", limit: limit, cursor: cursor },
      toView,
    );
  }

  async get(id: string): Promise<IntegrationView> {
    return toView(await loadRow(this.#ctx.store.db, id));
  }

  /** Changes settings; a change of where or how it is reached discovers again. */
  async patch(principal: Principal, id: string, patch: IntegrationPatch): Promise<IntegrationView> {
    await assertNoPanic(this.#ctx.store.db);
    const row = await loadRow(this.#ctx.store.db, id);
    const current = JSON.parse(row.config) as IntegrationConfig;
    const next: IntegrationConfig = { ...current };
    const fields = Object.keys(patch).filter((k) => patch[k as keyof IntegrationPatch] !== undefined);
    if (patch.base_url !== undefined) next.base_url = patch.base_url ?? undefined;
    if (patch.stdio !== undefined) {
      next.stdio = patch.stdio
        ? { ...patch.stdio, env: keepRedacted(patch.stdio.env, current.stdio?.env ?? {}) }
        : undefined;
    }
    if (patch.headers !== undefined) next.headers = keepRedacted(patch.headers, current.headers);
    for (const key of ["allow_offline", "allow_private", "timeout_ms", "max_response_bytes"] as const)
      if (patch[key] !== undefined) (next as Record<string, unknown>)[key] = patch[key];
    if (patch.description !== undefined) next.description = patch.description ?? undefined;
    if (next.stdio && row.kind !== "mcp") throw invalid("stdio is for mcp integrations", "stdio");
    if (Boolean(next.base_url) === Boolean(next.stdio))
      throw invalid("give exactly one of base_url and stdio", "base_url");
    assertEndpoint(next);
    const config = await sealIntegration(next, (v) => this.#vault.sealValue(v));
    const name = patch.name ?? row.name;
    const reach = ["base_url", "stdio", "headers", "allow_private"].some((f) => fields.includes(f));
    await this.#client.forget(id);
    const found = reach ? await this.#discover(id, name, row.kind, config) : undefined;
    return this.#ctx.store.write(principal, async (w) => {
      const fresh = await loadRow(w.tx, id);
      if (name !== fresh.name) await this.#assertNameFree(w.tx, name);
      const updated: IntegrationsTable = {
        ...fresh,
        name,
        config: JSON.stringify(config),
        updated_at: w.now,
        ...(found ? discoveredColumns(found, fresh, w.now) : {}),
      };
      await w.tx.updateTable("integrations").set(updated).where("id", "=", id).execute();
      w.emit("integration.updated", id, { name, fields });
      if (found) emitDiscovered(w, updated);
      return toView(updated);
    });
  }

  async remove(principal: Principal, id: string): Promise<{ deleted: boolean }> {
    await this.#client.forget(id);
    return this.#ctx.store.write(principal, async (w) => {
      const row = await loadRow(w.tx, id);
      await w.tx.deleteFrom("integrations").where("id", "=", id).execute();
      w.emit("integration.deleted", id, { name: row.name });
      return { deleted: true };
    });
  }

  /** Discovers again; the answer shows whether it reached the service (`status`, `discovery_error`). */
  async rediscover(principal: Principal, id: string): Promise<IntegrationView> {
    await assertNoPanic(this.#ctx.store.db);
    const row = await loadRow(this.#ctx.store.db, id);
    const found = await this.#discover(id, row.name, row.kind, JSON.parse(row.config) as IntegrationConfig);
    return this.#ctx.store.write(principal, async (w) => {
      const fresh = await loadRow(w.tx, id);
      const updated = { ...fresh, ...discoveredColumns(found, fresh, w.now), updated_at: w.now };
      await w.tx.updateTable("integrations").set(updated).where("id", "=", id).execute();
      emitDiscovered(w, updated);
      return toView(updated);
    });
  }

  /** Replaces the allow-list: every operation must have been discovered, every project must exist. */
  async setAllowlist(principal: Principal, id: string, list: AllowList): Promise<IntegrationView> {
    return this.#ctx.store.write(principal, async (w) => {
      const row = await loadRow(w.tx, id);
      const known = new Set((JSON.parse(row.operations) as StoredOperation[]).map((o) => o.name));
      const unknown = list.operations.map((a) => a.operation).filter((o) => !known.has(o));
      if (unknown.length > 0) {
        throw new GimoError(
          "unprocessable",
          `${row.name} has no discovered operation ${unknown.slice(0, 5).join(", ")}: discover it first`,
          { operations: unknown },
        );
      }
      const projects = [...new Set(list.operations.flatMap((a) => a.projects ?? []))];
      if (projects.length > 0) {
        const found = await w.tx.selectFrom("projects").select("id").where("id", "in", projects).execute();
        const missing = projects.filter((p) => !found.some((f) => f.id === p));
        if (missing.length > 0) throw notFound("project", missing.join(", "));
      }
      const allowlist: StoredAllow[] = list.operations.map((a) =>
        a.projects === undefined
          ? { operation: a.operation }
          : { operation: a.operation, projects: a.projects },
      );
      const updated = { ...row, allowlist: JSON.stringify(allowlist), updated_at: w.now };
      await w.tx
        .updateTable("integrations")
        .set({ allowlist: updated.allowlist, updated_at: w.now })
        .where("id", "=", id)
        .execute();
      w.emit("integration.allowlist_updated", id, {
        name: row.name,
        operations: [...new Set(allowlist.map((a) => a.operation))],
      });
      return toView(updated);
    });
  }

  /** The operations allow-listed for `projectId`, as model tools. */
  async toolsFor(projectId: string): Promise<IntegrationTool[]> {
    const rows = await this.#ctx.store.db.selectFrom("integrations").selectAll().orderBy("name").execute();
    const tools: IntegrationTool[] = [];
    for (const row of rows) {
      const allow = JSON.parse(row.allowlist) as StoredAllow[];
      if (allow.length === 0) continue;
      for (const op of JSON.parse(row.operations) as StoredOperation[]) {
        if (!allowedIn(allow, op.name, projectId)) continue;
        tools.push({
          name: toolName(row.name, op.name),
          description: `${op.description} (integration ${row.name}, operation ${op.name})`,
          parameters: toolParameters(op.input_schema),
          integration: row.name,
          operation: op.name,
        });
      }
    }
    return tools;
  }

  async rowByName(name: string): Promise<IntegrationsTable | undefined> {
    return this.#ctx.store.db
      .selectFrom("integrations")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
  }

  /** The integration ready to reach: sealed values opened, `${VAR}` resolved, secrets registered. */
  async resolve(
    id: string,
    name: string,
    kind: string,
    config: IntegrationConfig,
  ): Promise<ResolvedIntegration> {
    const opened = await openSealed({ headers: config.headers, env: config.stdio?.env ?? {} }, this.#vault);
    const { value, secrets } = await resolveWithSecrets(opened.value, this.#env, this.#vault);
    for (const secret of [...opened.secrets, ...secrets]) this.#ctx.redactor.add(secret);
    return {
      id,
      name,
      kind: kind === "mcp" ? "mcp" : "openapi",
      base_url: config.base_url,
      stdio: config.stdio ? { ...config.stdio, env: value.env } : undefined,
      headers: value.headers,
      allow_private: config.allow_private,
      max_response_bytes: config.max_response_bytes,
    };
  }

  async #discover(
    id: string,
    name: string,
    kind: string,
    config: IntegrationConfig,
  ): Promise<{ ok: true; operations: StoredOperation[] } | { ok: false; error: string }> {
    try {
      const resolved = await this.resolve(id, name, kind, config);
      const signal = AbortSignal.timeout(config.timeout_ms);
      return { ok: true, operations: await this.#client.discover(resolved, signal) };
    } catch (error) {
      const e = error as Error;
      const message =
        e.name === "TimeoutError" ? `no answer within ${config.timeout_ms} ms` : e.message || String(error);
      if (e.name === "AddressRefused") throw new GimoError("unprocessable", `${name}: ${message}`, { name });
      return { ok: false, error: this.#ctx.redactor.redact(message).slice(0, 2_000) };
    } finally {
      // Discovery's session is not kept for calls: the first call opens its own.
      await this.#client.forget(id);
    }
  }

  async #assertNameFree(db: Kysely<Database>, name: string): Promise<void> {
    const taken = await db
      .selectFrom("integrations")
      .select("id")
      .where("name", "=", name)
      .executeTakeFirst();
    if (taken) throw new GimoError("conflict", `an integration named ${name} already exists`);
  }
}
