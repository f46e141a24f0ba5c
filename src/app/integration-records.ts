import type { Kysely } from "kysely";
import type { IntegrationConfig, IntegrationView } from "../contract/integration.ts";
import { admitAddress, admitHostName } from "../core/address-guard.ts";
import { GimoError, notFound } from "../core/errors.ts";
import { allowedWhere, type StoredAllow, type StoredOperation } from "../integrations/operations.ts";
import { isLiteralSecret, isSealed } from "../secrets/sealed.ts";
import type { Database, IntegrationsTable } from "../store/schema.ts";
import { readPanic } from "../store/settings.ts";
import type { Write } from "../store/store.ts";

/**
 * An integration's stored row and what is shown of it: loading, the view with every secret
 * hidden (`[redacted]` for literals and sealed values, `${VAR}` references as written), the
 * columns a discovery writes, and the checks of what an admin writes (the endpoint, `[redacted]`
 * sent back meaning "keep the stored value"). The registry service (integrations.ts) composes
 * these.
 */
export const REDACTED = "[redacted]";

/** Reaching out to a service is a side effect: none while panic mode is on (the write would be refused anyway). */
export async function assertNoPanic(db: Kysely<Database>): Promise<void> {
  const panic = await readPanic(db);
  if (panic.on)
    throw new GimoError("panic_mode", `panic mode is on${panic.reason ? `: ${panic.reason}` : ""}`);
}

export async function loadRow(db: Kysely<Database>, id: string): Promise<IntegrationsTable> {
  const row = await db.selectFrom("integrations").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("integration", id);
  return row;
}

/** A literal address or a metadata name in the URL is refused when it is written, before any lookup. */
export function assertEndpoint(config: Pick<IntegrationConfig, "base_url" | "allow_private">): void {
  if (!config.base_url) return;
  const host = new URL(config.base_url).hostname.replace(/^\[|\]$/g, "");
  const name = admitHostName(host);
  if (!name.allowed) throw invalid(`base_url: ${name.reason}`, "base_url");
  if (/^[0-9.]+$|:/.test(host)) {
    const verdict = admitAddress(host, host, config.allow_private);
    if (!verdict.allowed) throw invalid(`base_url: ${verdict.reason}`, "base_url");
  }
}

export function invalid(message: string, field: string): GimoError {
  return new GimoError("unprocessable", message, { field });
}

export function keepRedacted(
  given: Record<string, string>,
  stored: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(given)) {
    if (value !== REDACTED) out[key] = value;
    else if (stored[key] !== undefined) out[key] = stored[key];
    else throw invalid(`${key} is [redacted] but no value is stored for it`, key);
  }
  return out;
}

export function discoveredColumns(
  found: { ok: true; operations: StoredOperation[] } | { ok: false; error: string },
  row: IntegrationsTable,
  now: string,
): Pick<IntegrationsTable, "operations" | "status" | "discovery_error" | "discovered_at"> {
  return found.ok
    ? {
        operations: JSON.stringify(found.operations),
        status: "online",
        discovery_error: null,
        discovered_at: now,
      }
    : {
        operations: row.operations,
        status: "offline",
        discovery_error: found.error,
        discovered_at: row.discovered_at,
      };
}

export function emitDiscovered(w: Write, row: IntegrationsTable): void {
  w.emit("integration.discovered", row.id, {
    name: row.name,
    status: row.status === "online" ? "online" : "offline",
    operations: (JSON.parse(row.operations) as unknown[]).length,
    error: row.discovery_error,
  });
}

/** A tool's parameters for a model: the input schema without its dialect marker, always an object. */
export function toolParameters(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _, ...rest } = schema;
  return rest.type === "object" ? rest : { type: "object", properties: {}, ...rest };
}

const hide = (value: string) => (isSealed(value) || isLiteralSecret(value) ? REDACTED : value);
const hideAll = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, hide(v)]));

export function toView(row: IntegrationsTable): IntegrationView {
  const config = JSON.parse(row.config) as IntegrationConfig;
  const allow = JSON.parse(row.allowlist) as StoredAllow[];
  return {
    id: row.id,
    name: row.name,
    kind: row.kind === "mcp" ? "mcp" : "openapi",
    base_url: config.base_url ?? null,
    stdio: config.stdio
      ? {
          command: config.stdio.command,
          args: config.stdio.args,
          env: hideAll(config.stdio.env),
          network: config.stdio.network,
        }
      : null,
    headers: hideAll(config.headers),
    allow_offline: config.allow_offline,
    allow_private: config.allow_private,
    timeout_ms: config.timeout_ms,
    max_response_bytes: config.max_response_bytes,
    description: config.description ?? null,
    status: row.status === "online" ? "online" : "offline",
    discovery_error: row.discovery_error,
    discovered_at: row.discovered_at,
    operations: (JSON.parse(row.operations) as StoredOperation[]).map((op) => ({
      name: op.name,
      description: op.description,
      input_schema: op.input_schema,
      ...(op.method ? { method: op.method } : {}),
      ...(op.path ? { path: op.path } : {}),
      allowed: allowedWhere(allow, op.name),
    })),
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
