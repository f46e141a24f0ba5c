import { createHash } from "node:crypto";

/**
 * An operation as discovery stores it (the `operations` column): what a model sees of it (name,
 * description, input schema) and, for OpenAPI, how to call it (server, method, path, where each
 * argument goes).
 */
export interface StoredOperation {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  /** openapi: where calls go (the document's server on the service's origin). */
  server?: string;
  method?: string;
  path?: string;
  params?: { name: string; in: "path" | "query" | "header" }[];
  /** openapi: the request body's content type, when it takes one (argument `body`). */
  body?: string;
}

export interface StoredAllow {
  operation: string;
  projects?: string[];
}

/** `null`: not allowed; `"everywhere"`; or the projects it is allowed in. */
export function allowedWhere(
  allowlist: readonly StoredAllow[],
  operation: string,
): "everywhere" | string[] | null {
  const entries = allowlist.filter((a) => a.operation === operation);
  if (entries.length === 0) return null;
  if (entries.some((a) => a.projects === undefined)) return "everywhere";
  return [...new Set(entries.flatMap((a) => a.projects ?? []))].sort();
}

export function allowedIn(allowlist: readonly StoredAllow[], operation: string, projectId: string): boolean {
  const where = allowedWhere(allowlist, operation);
  return where === "everywhere" || where?.includes(projectId) === true;
}

/** An operation name from free text: letters, digits, `_`, `-` and `.`, at most 100 characters. */
export function operationName(text: string): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9_.-]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 100);
  return cleaned || "operation";
}

/**
 * The tool name a model sees: `<integration>__<operation>`, only `[A-Za-z0-9_-]`, at most 64
 * characters (OpenAI's rule; the others are looser). Built-in tools never contain `__`, so an
 * integration cannot shadow one. A long name keeps its start and a short hash of the whole.
 */
export function toolName(integration: string, operation: string): string {
  const full = `${integration}__${operation.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  if (full.length <= 64) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${full.slice(0, 55)}_${hash}`;
}

/** Text clipped for a model's context, with a note saying so. */
export function clipForModel(text: string, max = 20_000): string {
  return text.length > max ? `${text.slice(0, max)}\n… (cut at ${max} characters)` : text;
}
