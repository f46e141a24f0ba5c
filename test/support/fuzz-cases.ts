import type { Role } from "../../src/core/roles.ts";
import { type FuzzCase, type FuzzResult, nestedArray, pathsOf, REMOVE, raw, toJson, withAt } from "./fuzz.ts";
import { samplePlan } from "./harness.ts";

/**
 * The hostile requests test/fuzz.test.ts sends to each operation of /openapi.json, and the rule
 * every answer must follow. The vocabulary first (malformed JSON, wrong types, odd unicode, hostile
 * ids, query values, cursors, header values), then the case builder, then the judge.
 */

export const MAX_BODY = 1_048_576;
const PLACEHOLDER = "01JD0000000000000000000000";

interface Param {
  name: string;
  in: "path" | "query" | "header";
  schema?: { pattern?: string };
}
export interface Op {
  method: string;
  path: string;
  operationId: string;
  params: Param[];
  body: "required" | "optional" | undefined;
  sse: boolean;
  public: boolean;
  /** x-gimo-access: who may call it. */
  access: string;
  /** The JSON schema of the body, for operations this file has no hand-written body for. */
  bodySchema: Schema | undefined;
}

export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
}

export interface Fixtures {
  ids: Record<string, string>;
  editableDraft: string;
  approvedId: string;
  draftId: string;
  repoPath: string;
  schemas: Record<string, Schema>;
}

// ---------------------------------------------------------------- the hostile vocabulary

const MALFORMED: [string, string][] = [
  ["truncated", '{"prompt": "x", "plan": {"title": "t"'],
  ["trailing comma", '{"prompt": "x",}'],
  ["dangling key", '{"a":'],
  ["NaN", '{"a": NaN}'],
  ["Infinity", '{"a": Infinity}'],
  ["single quotes", "{'a': 1}"],
  ["comment", '{"a": 1 /* c */}'],
  ["unquoted key", "{a: 1}"],
  ["lone surrogate escape", '{"prompt": "\\ud800", "reason": "\\udfff"}'],
  ["bad escape", '{"prompt": "\\x41"}'],
  ["two documents", "{}{}"],
  ["BOM", "\ufeff{}"],
  ["only whitespace", "   \n\t "],
  ["string document", '"just a string"'],
  ["null document", "null"],
  ["number document", "1e309"],
  ["array document", "[]"],
  ["1000-deep array", nestedArray(1000)],
  ["100000-deep array", nestedArray(100_000)],
  ["1000-deep object", `${'{"a":'.repeat(1000)}1${"}".repeat(1000)}`],
  ["deep array in a field", `{"prompt": ${nestedArray(5000)}, "plan": ${nestedArray(5000)}}`],
  [
    "proto pollution",
    '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}',
  ],
  ["duplicate keys", '{"prompt": "a", "prompt": 1}'],
];

/**
 * Bodies in MALFORMED that are not refused as such: valid JSON documents (refused, if at all, by
 * the schema), a UTF-8 BOM (dropped by the decoder) and blank bodies (read as `{}` by design).
 */
const NOT_MALFORMED = new Set([
  "string document",
  "null document",
  "number document",
  "array document",
  "1000-deep object",
  "deep array in a field",
  "lone surrogate escape",
  "proto pollution",
  "duplicate keys",
  "BOM",
  "only whitespace",
]);

/** Replacements for a top-level field: every wrong type there is. */
const WRONG: [string, unknown][] = [
  ["null", null],
  ["true", true],
  ["zero", 0],
  ["negative", -1],
  ["float", 1.5],
  ["1e308", 1e308],
  ["1e309", raw("1e309")],
  ["-1e309", raw("-1e309")],
  ["1e-400", raw("1e-400")],
  ["2^31", 2 ** 31],
  ["2^53-1", 2 ** 53 - 1],
  ["2^53+1", raw("9007199254740993")],
  ["-0", raw("-0")],
  ["empty string", ""],
  ["string", "not-the-right-type"],
  ["100k string", "x".repeat(100_000)],
  ["object", {}],
  ["array", []],
  ["mixed array", [1, "two", null, {}]],
  ["operator object", { $gt: "", $ne: null }],
  ["proto object", raw('{"__proto__": {"polluted": "yes"}}')],
  ["deep array", raw(nestedArray(1000))],
];
/** A shorter list for nested fields. */
const WRONG_NESTED = WRONG.filter(([k]) =>
  ["null", "zero", "float", "1e309", "empty string", "object", "array", "2^31", "2^53+1"].includes(k),
);

/** Written into every string field. */
const UNICODE: [string, string][] = [
  ["emoji", "😀🚀👩‍👩‍👧‍👦"],
  ["RTL override", "\u202eevil\u202c مرحبا עברית"],
  ["zero-width", "a\u200bb\u200c\u200d\ufeffc"],
  ["NUL", "a\u0000b"],
  ["controls", "\u0007\u001b[31mred\r\nX-Injected: 1"],
  ["combining", "e\u0301".repeat(2000)],
  ["lone surrogate", "\ud800"],
  ["reversed pair", "\udfff\ud800"],
  ["path traversal", "../../etc/passwd"],
  ["sql", "' OR 1=1 --"],
  ["sql stacked", `d_${PLACEHOLDER}; drop table runs`],
  ["html", "<script>alert(1)</script>"],
  ["template", "${OPENAI_API_KEY} {{7*7}} %s%n"],
  ["10k", "y".repeat(10_000)],
];

/** Path segments, as they go on the wire. */
const HOSTILE_IDS: string[] = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "..%252f..%252fetc",
  "'%20OR%201=1%20--",
  `d_${PLACEHOLDER};%20drop%20table%20runs`,
  `d_${PLACEHOLDER}%3B%20drop%20table%20runs`,
  "x".repeat(10_000),
  "%00",
  `r_${PLACEHOLDER}%00`,
  "%E0%A4%A",
  "%",
  "%zz",
  "%C0%AF",
  "%FF%FE",
  "%F0%9F%98%80",
  "%E2%80%AE",
  "%E2%80%8B",
  "p_01jd0000000000000000000000",
  `zz_${PLACEHOLDER}`,
  "%7Bid%7D",
  "null",
  "-1",
  "1e309",
  "",
];

/** Query values, as they go on the wire. */
const HOSTILE_QUERY: string[] = [
  "-1",
  "abc",
  "99999",
  "0",
  "1.5",
  "1e309",
  "2147483648",
  "9007199254740991",
  "99999999999999999999",
  "Infinity",
  "NaN",
  "0x10",
  "",
  "%00",
  "%E0%A4%A",
  "%",
  "..%2F..%2Fetc%2Fpasswd",
  "'%20OR%201=1%20--",
  `d_${PLACEHOLDER};%20drop%20table%20runs`,
  "x".repeat(10_000),
  "%F0%9F%98%80%E2%80%AE%E2%80%8B",
  "NOPE",
  "queued",
];

const b64 = (json: string) => Buffer.from(json).toString("base64url");
const CURSORS: string[] = [
  "garbage",
  "!!!",
  "%00",
  b64("1e400"),
  b64("-1e400"),
  b64("1.5"),
  b64("-1"),
  b64("99999999999999999999999"),
  b64('"\\u0000"'),
  b64(`"' OR 1=1 --"`),
  b64('"\\ud800"'),
  b64('{"a":1}'),
  b64("[1]"),
  b64("null"),
  b64("true"),
  b64('""'),
  b64(`"${"z".repeat(140)}"`),
  "c".repeat(10_000),
];

const latin1 = (s: string) => Buffer.from(s).toString("latin1");
/** Header values no header of ours accepts (Idempotency-Key takes 1-200 visible ASCII characters). */
const ODD_HEADER_VALUES = ["k".repeat(500), "has spaces", "cl\u00e9", latin1("😀"), "tab\there"];

// ---------------------------------------------------------------- building the cases

type Doc = {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, Schema> };
};

export function operationsOf(doc: Doc): Op[] {
  const ops: Op[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      const op = raw as {
        operationId: string;
        parameters?: Param[];
        requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
        responses?: Record<string, { content?: Record<string, unknown> }>;
        security?: unknown[];
        "x-gimo-access"?: string;
      };
      const sse = Object.values(op.responses ?? {}).some((r) => r.content?.["text/event-stream"]);
      ops.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        params: op.parameters ?? [],
        body: op.requestBody ? (op.requestBody.required ? "required" : "optional") : undefined,
        sse,
        public: (op.security ?? []).length === 0,
        access: op["x-gimo-access"] ?? "unknown",
        bodySchema: op.requestBody?.content?.["application/json"]?.schema,
      });
    }
  }
  return ops;
}

/** The path with each `{param}` filled: a real id of the right kind when one exists. */
/** The path with its parameters filled; `segment` replaces `only` (default: every parameter). */
function fill(op: Op, f: Fixtures, segment?: string, only?: string): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (segment !== undefined && (only === undefined || only === name)) return segment;
    const pattern = op.params.find((p) => p.in === "path" && p.name === name)?.schema?.pattern ?? "";
    const prefix = /^\^([a-z]+)_/.exec(pattern)?.[1] ?? "x";
    return f.ids[prefix] ?? `${prefix}_${PLACEHOLDER}`;
  });
}

/** A body each operation accepts (or nearly), the starting point of every mutation. */
export function baseBody(op: Op, f: Fixtures): unknown {
  switch (op.operationId) {
    case "createDraft":
      return { prompt: "fuzz", plan: samplePlan("Fuzz") };
    case "updateDraft":
      return { prompt: "fuzz edit", plan: samplePlan("Fuzz edit") };
    case "approveDraft":
      return { auto_run: false };
    case "rejectDraft":
    case "cancelRun":
      return { reason: "fuzz" };
    case "requeueRun":
      return { backoff_seconds: 0, reason: "fuzz" };
    case "createRun":
      return { approved_id: f.approvedId, depends_on: [], priority: 0, allow_parallel: true };
    case "createProject":
      return {
        name: "fuzz",
        repo_path: f.repoPath,
        base_branch: "main",
        protected_branches: ["main"],
        test_command: "npm test",
        sandbox: { network: false },
        budgets: { max_turns: 10 },
      };
    case "updateProject":
      return { test_command: "npm test", max_concurrent_runs: 2, sandbox: { network: false } };
    case "putPlan":
      return {
        objective: "fuzz",
        context: "ctx",
        constraints: ["be nice"],
        default_auto_run: false,
        require_distinct_approver: false,
      };
    case "createToken":
      return { name: "fuzz", role: "actions", expires_at: "2099-01-01T00:00:00.000Z" };
    case "setPanic":
      return { on: false, reason: "fuzz" };
    case "registerRunner":
      return { name: "fuzz-runner", labels: ["linux"], capacity: 1 };
    case "runnerHeartbeat":
      return { stopping: false };
    case "claimRun":
      return { runner_id: f.ids.rn, wait_seconds: 0 };
    case "extendLease":
      return { runner_id: f.ids.rn, attempt: 1 };
    case "appendRunLogs":
      return {
        runner_id: f.ids.rn,
        attempt: 1,
        lines: [{ ts: "2026-01-01T00:00:00.000Z", level: "info", msg: "hello", step_id: "s1" }],
      };
    case "updateRunSteps":
      return {
        runner_id: f.ids.rn,
        attempt: 1,
        steps: [{ id: "s1", status: "running", detail: "d", attempts: 1 }],
      };
    case "completeRun":
      return {
        runner_id: f.ids.rn,
        attempt: 1,
        status: "failed",
        error: { code: "fuzz", message: "m", retryable: false, retry_after_seconds: 1 },
      };
    default:
      return op.bodySchema ? exampleOf(op.bodySchema, f) : {};
  }
}

/** A plausible value for a JSON schema (every property filled), for operations added later. */
function exampleOf(schema: Schema, f: Fixtures, depth = 0): unknown {
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop() ?? "";
    const target = f.schemas[name];
    return target && depth < 8 ? exampleOf(target, f, depth + 1) : {};
  }
  const alt = schema.anyOf ?? schema.oneOf ?? schema.allOf;
  if (alt?.[0]) return exampleOf(alt.find((a) => a.type !== "null") ?? alt[0], f, depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "string": {
      if (schema.format === "date-time") return "2026-01-01T00:00:00.000Z";
      if (schema.format === "uri") return "https://example.com/";
      const prefix = /^\^([a-z]+)_/.exec(schema.pattern ?? "")?.[1];
      if (prefix) return f.ids[prefix] ?? `${prefix}_${PLACEHOLDER}`;
      return "fuzz".padEnd(schema.minLength ?? 0, "z");
    }
    case "integer":
    case "number":
      return Math.max(schema.minimum ?? 1, 0);
    case "boolean":
      return false;
    case "array":
      return schema.minItems && schema.items ? [exampleOf(schema.items, f, depth + 1)] : [];
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([k, v]) => [k, exampleOf(v, f, depth + 1)]),
      );
    default:
      return schema.default ?? "fuzz";
  }
}

export function casesFor(op: Op, f: Fixtures, tokens: Record<Role, string>): FuzzCase[] {
  const out: FuzzCase[] = [];
  const m = op.method;
  const path = fill(op, f);
  const canBody = m !== "GET" && m !== "HEAD";
  const base = op.body ? baseBody(op, f) : undefined;
  const baseText = base === undefined ? undefined : toJson(base);
  const auth = (role: Role) => ({ authorization: `Bearer ${tokens[role]}` });
  const json = { "content-type": "application/json" };
  const add = (
    label: string,
    c: Omit<FuzzCase, "label" | "method" | "path"> & { path?: string; method?: string },
  ) => out.push({ method: m, path, ...c, label: `${c.method ?? m} ${op.path} · ${label}` });
  // Admin may do everything; the second role is the narrower one that may (runner) or may not.
  const roles: Role[] = ["admin", op.access === "runner" ? "runner" : "operator"];

  for (const role of roles) {
    const h = auth(role);
    add(`${role} baseline`, { headers: { ...h, ...(baseText ? json : {}) }, body: baseText });
    if (!canBody) continue;
    const bodyStatus = role === "admin" && op.body ? [400] : undefined;
    for (const [name, text] of MALFORMED) {
      add(`${role} malformed: ${name}`, {
        headers: { ...h, ...json },
        body: text,
        expect: NOT_MALFORMED.has(name) ? undefined : bodyStatus,
      });
    }
    add(`${role} empty body with json type`, { headers: { ...h, ...json }, body: "" });
    add(`${role} empty body, no type`, { headers: h, body: new Uint8Array() });
    const payload = baseText ?? "{}";
    for (const type of [
      "text/plain",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "application/jsonx",
      "text/json",
      "application/xml",
    ]) {
      add(`${role} content-type ${type}`, {
        headers: { ...h, "content-type": type },
        body: payload,
        expect: role === "admin" ? [415] : undefined,
      });
    }
    add(`${role} no content-type with a body`, {
      headers: h,
      body: new TextEncoder().encode(payload),
      expect: role === "admin" ? [415] : undefined,
    });
  }
  if (canBody) {
    const h = { ...auth("admin"), ...json };
    for (const type of [
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/vnd.api+json",
      "application/json; charset=utf-16",
    ]) {
      add(`content-type ${type}`, {
        headers: { ...auth("admin"), "content-type": type },
        body: baseText ?? "{}",
      });
    }
    add("invalid UTF-8 body", {
      headers: h,
      body: Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
    });
    add("body over the limit (content-length)", {
      headers: h,
      body: `{"prompt":"${"x".repeat(MAX_BODY)}"}`,
      expect: [413],
    });
    add("body over the limit (chunked, no length)", {
      headers: h,
      body: () => chunked(MAX_BODY * 2),
      expect: [413],
    });
    add("small chunked body", { headers: h, body: () => chunkedText(baseText ?? "{}") });
  }
  if (op.body && base !== undefined) {
    const h = { ...auth("admin"), ...json };
    for (const [name, v] of WRONG) {
      add(`whole body ${name}`, { headers: h, body: toJson(v) });
    }
    for (const p of pathsOf(base)) {
      for (const [name, v] of p.length === 1 ? WRONG : WRONG_NESTED) {
        add(`${p.join(".")} = ${name}`, { headers: h, body: toJson(withAt(base, p, v)) });
      }
      add(`${p.join(".")} removed`, { headers: h, body: toJson(withAt(base, p, REMOVE)) });
    }
    add("unknown top-level field", { headers: h, body: toJson({ ...(base as object), zz_unknown: 1 }) });
    add("__proto__ field", {
      headers: h,
      body: `{"__proto__": {"polluted": "yes"}, ${(baseText ?? "{}").slice(1)}`.replace(/, }$/, "}"),
    });
    for (const p of pathsOf(base)) {
      const at = p.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], base);
      if (at !== null && typeof at === "object" && !Array.isArray(at)) {
        add(`unknown field in ${p.join(".")}`, {
          headers: h,
          body: toJson(withAt(base, [...p, "zz_unknown"], "x")),
        });
      }
      if (typeof at === "string") {
        for (const [name, s] of UNICODE)
          add(`${p.join(".")} ${name}`, { headers: h, body: toJson(withAt(base, p, s)) });
      }
    }
  }

  // Path parameters: sent byte-for-byte with node:http so nothing normalises them.
  // With several parameters, one at a time (three 10 kB segments would pass Node's 16 kB request line).
  const pathParams = op.params.filter((p) => p.in === "path").map((p) => p.name);
  for (const param of pathParams) {
    for (const role of roles) {
      for (const id of HOSTILE_IDS) {
        const which = pathParams.length > 1 ? ` ${param}` : "";
        // A name that is not an id may be well-formed: then the route's own answer (the runner
        // routes: 409, the fixture run is not held by the caller).
        const isId = /^\^[a-z]+_/.test(op.params.find((p) => p.name === param)?.schema?.pattern ?? "");
        add(`${role} id${which} ${id.slice(0, 40)}`, {
          raw: true,
          path: fill(op, f, id, param),
          headers: { ...auth(role), ...(baseText ? json : {}) },
          body: baseText,
          expect: role === "admin" && id !== "" ? (isId ? [400, 404] : [400, 404, 409]) : undefined,
        });
      }
    }
  }

  // Query strings: every declared parameter, and the list ones on every GET.
  const names = new Set(op.params.filter((p) => p.in === "query").map((p) => p.name));
  if (m === "GET") for (const n of ["limit", "cursor", "status"]) names.add(n);
  const queryCases: string[] = [];
  for (const name of names) {
    for (const v of HOSTILE_QUERY) queryCases.push(`${name}=${v}`);
    queryCases.push(`${name}=1&${name}=2`, name, `${name}[]=1`, `${name}[a]=1`);
  }
  if (names.has("cursor")) for (const c of CURSORS) queryCases.push(`cursor=${c}`);
  queryCases.push("&&&==&%26%3D", "%E0%A4%A=1", "__proto__=1&constructor=2");
  for (const q of queryCases) {
    add(`query ${q.slice(0, 60)}`, {
      raw: true,
      path: `${path}?${q}`,
      headers: { ...auth("admin"), ...(baseText ? json : {}) },
      body: baseText,
      expect: q === "limit=abc" && op.params.some((p) => p.name === "limit") ? [400] : undefined,
    });
  }

  // Headers.
  const h = { ...auth("admin"), ...(baseText ? json : {}) };
  for (const id of [
    "x".repeat(10_000),
    "<script>alert(1)</script>",
    "a b",
    "cl\u00e9",
    latin1("😀"),
    "ok-id:1.2_3",
  ]) {
    add(`correlation id ${id.slice(0, 30)}`, { headers: { ...h, "x-correlation-id": id }, body: baseText });
  }
  if (m === "POST") {
    for (const key of [...ODD_HEADER_VALUES, ""]) {
      add(`idempotency-key ${key.slice(0, 30)}`, {
        headers: { ...h, "idempotency-key": key },
        body: baseText,
        expect: [400],
      });
    }
  }
  if (op.operationId === "putPlan") {
    for (const v of [
      "garbage",
      'W/"abc"',
      "-1",
      "1.5",
      "99999999999999999999",
      "0x10",
      "1".repeat(1000),
      "<>'&",
      ...ODD_HEADER_VALUES,
    ]) {
      add(`if-match ${v.slice(0, 30)}`, { headers: { ...h, "if-match": v }, body: baseText, expect: [400] });
    }
    for (const v of ["*", "", '"1"', 'W/"1"', "999999999999"]) {
      add(`if-match ${v}`, { headers: { ...h, "if-match": v }, body: baseText });
    }
  }
  if (op.sse) {
    for (const v of [
      "garbage",
      "-1",
      "1.5",
      "1e3",
      "0x10",
      "99999999999999999999",
      "9".repeat(21),
      ...ODD_HEADER_VALUES,
    ]) {
      add(`last-event-id ${v.slice(0, 30)}`, { headers: { ...h, "last-event-id": v }, expect: [400] });
    }
    for (const v of ["0", "999999999999999", "", " 1"]) {
      add(`last-event-id ${v}`, { headers: { ...h, "last-event-id": v } });
    }
  }
  if (!op.public) {
    for (const a of [
      "Bearer",
      `Bearer ${"x".repeat(10_000)}`,
      "Basic Zm9vOmJhcg==",
      `Bearer ${tokens.admin} extra`,
      `Bearer ${tokens.admin}\u00e9`,
      "",
    ]) {
      add(`authorization ${a.slice(0, 20)}`, {
        headers: { ...(baseText ? json : {}), authorization: a },
        body: baseText,
        expect: [401],
      });
    }
  }
  // Methods the path does not have.
  add("OPTIONS", { method: "OPTIONS", headers: auth("admin") });
  if (m === "GET" && !op.sse) add("HEAD", { method: "HEAD", headers: auth("admin") });
  return out;
}

function chunked(total: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('{"prompt":"'));
      if (sent >= total) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
}

function chunkedText(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + 7));
      at += 7;
    },
  });
}

// ---------------------------------------------------------------- judging the answers

const SANE_CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

export function problemWith(c: FuzzCase, r: FuzzResult): string | undefined {
  const where = `${c.label}: `;
  if (r.error) return `${where}request failed: ${r.error}`;
  if (r.status >= 500) return `${where}${r.status} ${r.text.slice(0, 300)}`;
  if (!((r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500))) {
    return `${where}unexpected status ${r.status}`;
  }
  if (r.status === 413 && r.header("connection") !== "close") {
    return `${where}a 413 leaves the body unread but keeps the connection alive`;
  }
  if (c.expect && !c.expect.includes(r.status)) {
    return `${where}expected ${c.expect.join("|")}, got ${r.status} ${r.text.slice(0, 200)}`;
  }
  const correlation = r.header("x-correlation-id");
  if (!correlation || !SANE_CORRELATION.test(correlation))
    return `${where}x-correlation-id is ${correlation}`;
  const sent = c.headers?.["x-correlation-id"];
  if (sent && SANE_CORRELATION.test(sent) && correlation !== sent) return `${where}correlation id not echoed`;
  if (r.status >= 400 && c.method !== "HEAD") {
    let body: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      body = JSON.parse(r.text);
    } catch {
      return `${where}${r.status} answer is not JSON: ${r.text.slice(0, 200)}`;
    }
    const e = body?.error;
    if (typeof e?.code !== "string" || e.code === "" || typeof e.message !== "string") {
      return `${where}${r.status} answer lacks {error:{code,message}}: ${r.text.slice(0, 200)}`;
    }
    if (!r.header("content-type")?.startsWith("application/json"))
      return `${where}error is not application/json`;
  }
  return undefined;
}
