import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessLevels } from "../src/core/roles.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

/**
 * The OpenAPI documents: both are valid OpenAPI 3.1 by a real validator; the full one names each
 * operation's access; the ChatGPT Actions subset obeys SPEC §7.5 (at most 30 operations, unique
 * camelCase operationIds, summaries ≤ 300, parameter descriptions ≤ 700, isConsequential on every
 * mutation, bearer auth, servers, no internal extensions).
 */

interface Parameter {
  name: string;
  in: string;
  description?: string;
  schema?: { description?: string };
}
type SecurityRequirement = Record<string, string[]>;
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  security?: SecurityRequirement[];
  [extension: `x-${string}`]: unknown;
}
interface Doc {
  openapi: string;
  info?: unknown;
  servers?: { url: string }[];
  security?: SecurityRequirement[];
  components?: { securitySchemes?: Record<string, { type?: string; scheme?: string }> };
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
}

function operations(doc: Doc): { key: string; method: string; path: string; op: Operation }[] {
  const out: { key: string; method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) out.push({ key: `${method.toUpperCase()} ${path}`, method, path, op });
    }
  }
  return out;
}

/** Every key anywhere in `value` that starts with `prefix`, as JSON-pointer-ish paths. */
function keysStartingWith(value: unknown, prefix: string, at = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keysStartingWith(v, prefix, `${at}/${i}`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(k.startsWith(prefix) ? [`${at}/${k}`] : []),
    ...keysStartingWith(v, prefix, `${at}/${k}`),
  ]);
}

async function validationErrors(doc: unknown): Promise<string | undefined> {
  // validate() dereferences in place: give it a copy.
  const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
  return result.valid && result.warnings.length === 0 ? undefined : compileErrors(result);
}

describe("the OpenAPI documents", () => {
  let g: TestGimo;
  let full: Doc;
  let actions: Doc;

  beforeAll(async () => {
    g = await startGimo("sqlite");
    const fullRes = await g.request("GET", "/openapi.json", { role: null });
    const actionsRes = await g.request("GET", "/openapi.actions.json", { role: null });
    expect(fullRes.status).toBe(200);
    expect(actionsRes.status).toBe(200);
    full = fullRes.body;
    actions = actionsRes.body;
  });
  afterAll(async () => {
    await g?.close();
  });

  it("the validator does reject a broken document", async () => {
    const noInfo = structuredClone(full);
    delete noInfo.info;
    expect(await validationErrors(noInfo)).toMatch(/info/);
    const duplicate = structuredClone(full);
    const [first, second] = operations(duplicate);
    if (!first || !second) throw new Error("the document has fewer than two operations");
    second.op.operationId = first.op.operationId;
    expect(await validationErrors(duplicate)).toMatch(/operationId .* is duplicated/);
  });

  describe("/openapi.json", () => {
    it("is a valid OpenAPI 3.1 document", async () => {
      expect(full.openapi).toMatch(/^3\.1\./);
      expect(await validationErrors(full)).toBeUndefined();
    });

    it("gives every operation a unique operationId and an x-gimo-access level", () => {
      const ops = operations(full);
      expect(ops.length).toBeGreaterThan(0);
      const ids = ops.map(({ op }) => op.operationId);
      for (const { key, op } of ops) {
        expect(op.operationId, key).toMatch(/^[a-z][A-Za-z0-9]*$/);
        expect(accessLevels, `${key} x-gimo-access`).toContain(op["x-gimo-access"]);
      }
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("asks for the bearer token on every operation but the public ones", () => {
      const scheme = full.components?.securitySchemes?.bearer;
      expect(scheme).toMatchObject({ type: "http", scheme: "bearer" });
      for (const { key, op } of operations(full)) {
        const security = op.security ?? full.security ?? [];
        if (op["x-gimo-access"] === "public") expect(security, key).toEqual([]);
        else expect(security, key).toEqual([{ bearer: [] }]);
      }
    });
  });

  describe("/openapi.actions.json (SPEC §7.5)", () => {
    it("is a valid OpenAPI 3.1 document", async () => {
      expect(actions.openapi).toMatch(/^3\.1\./);
      expect(await validationErrors(actions)).toBeUndefined();
    });

    it("has between 1 and 30 operations, each a unique camelCase operationId", () => {
      const ops = operations(actions);
      expect(ops.length).toBeGreaterThan(0);
      expect(ops.length).toBeLessThanOrEqual(30);
      const ids = ops.map(({ op }) => op.operationId);
      for (const { key, op } of ops) expect(op.operationId, key).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("keeps summaries within 300 characters and parameter descriptions within 700", () => {
      for (const { key, op } of operations(actions)) {
        expect(typeof op.summary, `${key} summary`).toBe("string");
        expect(op.summary?.length, `${key} summary`).toBeLessThanOrEqual(300);
        if (op.description !== undefined) expect(op.description.length, key).toBeLessThanOrEqual(300);
        for (const p of op.parameters ?? []) {
          const where = `${key} parameter ${p.name}`;
          expect(p.description?.length ?? 0, where).toBeLessThanOrEqual(700);
          expect(p.schema?.description?.length ?? 0, where).toBeLessThanOrEqual(700);
        }
      }
    });

    it("marks every mutation x-openai-isConsequential: true and every read false", () => {
      for (const { key, method, op } of operations(actions)) {
        expect(op["x-openai-isConsequential"], key).toBe(method !== "get");
      }
    });

    it("declares bearer auth and uses it on every operation", () => {
      const schemes = Object.entries(actions.components?.securitySchemes ?? {});
      const bearer = schemes.filter(
        ([, s]) => s.type === "http" && String(s.scheme).toLowerCase() === "bearer",
      );
      expect(bearer.length).toBeGreaterThan(0);
      const names = new Set(bearer.map(([name]) => name));
      for (const { key, op } of operations(actions)) {
        const security = (op.security ?? actions.security ?? []) as Record<string, unknown>[];
        expect(
          security.some((req) => Object.keys(req).some((name) => names.has(name))),
          key,
        ).toBe(true);
      }
    });

    it("names a server to call", () => {
      const servers = actions.servers ?? [];
      expect(servers.length).toBeGreaterThan(0);
      for (const server of servers) expect(() => new URL(server.url)).not.toThrow();
    });

    it("carries no x-gimo-* extensions", () => {
      expect(keysStartingWith(actions, "x-gimo")).toEqual([]);
    });

    it("is a subset of /openapi.json with the same operationIds", () => {
      const fullIds = new Map(operations(full).map(({ key, op }) => [key, op.operationId]));
      for (const { key, op } of operations(actions)) expect(fullIds.get(key), key).toBe(op.operationId);
    });

    it("offers no read the actions role is refused (secret or admin-only reads)", () => {
      const fullOps = new Map(operations(full).map(({ key, op }) => [key, op]));
      for (const { key, method } of operations(actions)) {
        if (method !== "get") continue;
        expect(["any", "read"], key).toContain(fullOps.get(key)?.["x-gimo-access"]);
      }
    });
  });
});
