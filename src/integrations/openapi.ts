import { lazyPackage } from "../lazy-package.ts";
import { operationName, type StoredOperation } from "./operations.ts";

/**
 * OpenAPI discovery and calls.
 *
 * Discovery looks for the document at the URL given when it names one (`….json`, `….yaml`), then
 * at the usual paths under it and under its origin (`/openapi.json`, `/openapi.yaml`,
 * `/.well-known/openapi.json`, `/swagger.json`, `/v3/api-docs` …), and takes the first answer that
 * parses (JSON or YAML) as OpenAPI 3.x or Swagger 2.0. Each path × method becomes one operation:
 * its name is the `operationId` (or `method_path`), its input schema one object whose properties
 * are the path, query and header parameters and `body` (the JSON request body), with local `$ref`s
 * inlined (a cycle becomes `{}`).
 *
 * Calls go to the document's server only when it is on the same origin as the integration's URL
 * (a document cannot send the integration's headers elsewhere), else to that origin.
 */

/** Loaded with the first YAML document (lazy-package.ts). */
const yaml = lazyPackage<typeof import("yaml")>("yaml");
export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

const USUAL_PATHS = [
  "openapi.json",
  "openapi.yaml",
  "openapi.yml",
  ".well-known/openapi.json",
  ".well-known/openapi.yaml",
  "swagger.json",
  "swagger.yaml",
  "v3/api-docs",
  "api-docs",
  "openapi",
  "docs/openapi.json",
];
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;
const MAX_OPERATIONS = 1_000;

export function candidateUrls(baseUrl: string): string[] {
  const base = new URL(baseUrl);
  const out: string[] = [];
  if (/\.(json|ya?ml)$/i.test(base.pathname)) out.push(base.href);
  const dir = new URL(base.href.endsWith("/") ? base.href : `${base.href}/`);
  dir.search = "";
  dir.hash = "";
  for (const path of USUAL_PATHS) out.push(new URL(path, dir).href);
  for (const path of USUAL_PATHS) out.push(new URL(`/${path}`, base.origin).href);
  return [...new Set(out)];
}

type Doc = Record<string, unknown>;

export interface OpenApiDiscovery {
  documentUrl: string;
  operations: StoredOperation[];
}

/** Finds and reads the document; throws with every URL tried when none answered one. */
export async function discoverOpenApi(baseUrl: string, fetcher: Fetcher): Promise<OpenApiDiscovery> {
  const tried: string[] = [];
  for (const url of candidateUrls(baseUrl)) {
    let res: Response;
    try {
      res = await fetcher(url, {
        headers: { accept: "application/json, application/yaml;q=0.9, */*;q=0.5" },
      });
    } catch (error) {
      if ((error as Error).name === "AddressRefused" || (error as Error).name === "AbortError") throw error;
      if ((error as Error).name === "TimeoutError") throw error;
      tried.push(`${url}: ${(error as Error).message}`);
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      tried.push(`${url}: HTTP ${res.status}`);
      continue;
    }
    const doc = parseDocument(await res.text());
    if (!doc) {
      tried.push(`${url}: not an OpenAPI document`);
      continue;
    }
    return { documentUrl: url, operations: operationsOf(doc, url, baseUrl) };
  }
  throw new Error(
    `no OpenAPI document found (${tried.slice(0, 6).join("; ")}${tried.length > 6 ? "; …" : ""})`,
  );
}

function parseDocument(text: string): Doc | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      doc = yaml().parse(text, { maxAliasCount: 100 });
    } catch {
      return undefined;
    }
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return undefined;
  const d = doc as Doc;
  const ok = (typeof d.openapi === "string" && d.openapi.startsWith("3.")) || d.swagger === "2.0";
  return ok && typeof d.paths === "object" && d.paths !== null ? d : undefined;
}

/** Where calls go: the document's first server when it is on the integration's origin. */
function serverOf(doc: Doc, documentUrl: string, baseUrl: string): string {
  const origin = new URL(baseUrl).origin;
  let server: URL | undefined;
  try {
    if (doc.swagger === "2.0") server = new URL(String(doc.basePath ?? "/"), documentUrl);
    else {
      const first = (doc.servers as { url?: unknown }[] | undefined)?.[0]?.url;
      server = new URL(typeof first === "string" ? first : "/", documentUrl);
    }
  } catch {
    server = undefined;
  }
  const chosen = server && server.origin === origin ? server : new URL(server?.pathname ?? "/", origin);
  return chosen.href.replace(/\/+$/, "");
}

export function operationsOf(doc: Doc, documentUrl: string, baseUrl: string): StoredOperation[] {
  const server = serverOf(doc, documentUrl, baseUrl);
  const dialect =
    typeof doc.openapi === "string" && doc.openapi.startsWith("3.1")
      ? "https://json-schema.org/draft/2020-12/schema"
      : "http://json-schema.org/draft-07/schema#";
  const deref = dereferencer(doc);
  const out: StoredOperation[] = [];
  const names = new Set<string>();
  for (const [path, rawItem] of Object.entries(doc.paths as Doc)) {
    const item = deref(rawItem) as Doc | undefined;
    if (!item || typeof item !== "object") continue;
    const shared = (item.parameters as unknown[] | undefined) ?? [];
    for (const method of METHODS) {
      const op = item[method] as Doc | undefined;
      if (!op || typeof op !== "object" || out.length >= MAX_OPERATIONS) continue;
      let name = operationName(typeof op.operationId === "string" ? op.operationId : `${method}${path}`);
      for (let i = 2; names.has(name); i++) name = `${name.replace(/_\d+$/, "")}_${i}`;
      names.add(name);
      out.push({
        name,
        description: describe(op, method, path),
        server,
        method: method.toUpperCase(),
        path,
        ...inputOf([...shared, ...((op.parameters as unknown[] | undefined) ?? [])], op, deref, dialect),
      });
    }
  }
  return out;
}

function describe(op: Doc, method: string, path: string): string {
  const parts = [op.summary, op.description].filter((p): p is string => typeof p === "string" && p !== "");
  const text = [...new Set(parts)].join(" — ") || `${method.toUpperCase()} ${path}`;
  return text.length > 1_000 ? `${text.slice(0, 1_000)}…` : text;
}

function inputOf(
  rawParams: unknown[],
  op: Doc,
  deref: (v: unknown) => unknown,
  dialect: string,
): Pick<StoredOperation, "input_schema" | "params" | "body"> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const params: NonNullable<StoredOperation["params"]> = [];
  const byKey = new Map<string, Doc>();
  for (const raw of rawParams) {
    const p = deref(raw) as Doc | undefined;
    if (p && typeof p.name === "string" && typeof p.in === "string") byKey.set(`${p.in}:${p.name}`, p);
  }
  let body: string | undefined;
  for (const p of byKey.values()) {
    const where = p.in as string;
    if (where === "body") {
      // Swagger 2.0's body parameter.
      properties.body = deref(p.schema) ?? {};
      if (p.required === true) required.push("body");
      body = "application/json";
      continue;
    }
    if (where !== "path" && where !== "query" && where !== "header") continue;
    const name = p.name as string;
    const schema = (deref(p.schema) as Doc | undefined) ?? swagger2Schema(p);
    properties[name] = typeof p.description === "string" ? { ...schema, description: p.description } : schema;
    if (p.required === true || where === "path") required.push(name);
    params.push({ name, in: where });
  }
  const requestBody = deref(op.requestBody) as Doc | undefined;
  const content = requestBody?.content as Record<string, Doc> | undefined;
  if (content && properties.body === undefined) {
    const types = Object.keys(content);
    const json = types.find((t) => /json/i.test(t));
    const type = json ?? types[0];
    if (type) {
      body = type;
      properties.body = json ? (deref(content[type]?.schema) ?? {}) : { type: "string" };
      if (requestBody?.required === true) required.push("body");
    }
  }
  return {
    input_schema: {
      $schema: dialect,
      type: "object",
      properties,
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
    },
    params,
    ...(body ? { body } : {}),
  };
}

/** Swagger 2.0 puts a non-body parameter's schema on the parameter itself. */
function swagger2Schema(p: Doc): Doc {
  const out: Doc = {};
  for (const key of ["type", "format", "enum", "items", "minimum", "maximum", "pattern", "default"])
    if (p[key] !== undefined) out[key] = p[key];
  return out;
}

/** Inlines local `$ref`s (`#/…`); a reference met again inside itself becomes `{}`. */
function dereferencer(doc: Doc): (value: unknown) => unknown {
  const lookup = (ref: string): unknown => {
    let node: unknown = doc;
    for (const raw of ref.slice(2).split("/")) {
      const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      node = node && typeof node === "object" ? (node as Doc)[key] : undefined;
    }
    return node;
  };
  const walk = (value: unknown, stack: string[], budget: { nodes: number }): unknown => {
    if (--budget.nodes < 0) return {};
    if (Array.isArray(value)) return value.map((v) => walk(v, stack, budget));
    if (value === null || typeof value !== "object") return value;
    const ref = (value as Doc).$ref;
    if (typeof ref === "string") {
      if (!ref.startsWith("#/") || stack.includes(ref)) return {};
      return walk(lookup(ref), [...stack, ref], budget);
    }
    const out: Doc = {};
    for (const [key, inner] of Object.entries(value)) out[key] = walk(inner, stack, budget);
    return out;
  };
  return (value) => walk(value, [], { nodes: 20_000 });
}

export interface HttpRequestPlan {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** The request for one call of `op` with (already validated) `args`. */
export function requestFor(op: StoredOperation, args: Record<string, unknown>): HttpRequestPlan {
  let path = op.path ?? "/";
  const query = new URLSearchParams();
  const headers: Record<string, string> = { accept: "application/json, */*;q=0.5" };
  for (const p of op.params ?? []) {
    const value = args[p.name];
    if (value === undefined) continue;
    const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
    if (p.in === "path") {
      if (/^\.{1,2}$/.test(text(value))) throw new Error(`path parameter ${p.name} may not be . or ..`);
      path = path.split(`{${p.name}}`).join(encodeURIComponent(text(value)));
    } else if (p.in === "query")
      for (const v of Array.isArray(value) ? value : [value]) query.append(p.name, text(v));
    else headers[p.name.toLowerCase()] = text(value).replace(/[\r\n]/g, " ");
  }
  const url = new URL(`${op.server ?? ""}${path}`);
  for (const [k, v] of query) url.searchParams.append(k, v);
  const plan: HttpRequestPlan = { url: url.href, method: op.method ?? "GET", headers };
  if (op.body && args.body !== undefined) {
    plan.headers["content-type"] = op.body;
    plan.body = /json/i.test(op.body) ? JSON.stringify(args.body) : String(args.body);
  }
  return plan;
}
