import { describe, expect, it } from "vitest";
import { candidateUrls, operationsOf, requestFor } from "./openapi.ts";

describe("OpenAPI discovery and requests", () => {
  it("looks at the URL given, then the usual paths under it and under its origin", () => {
    const urls = candidateUrls("https://api.example.com/v2/spec.yaml");
    expect(urls[0]).toBe("https://api.example.com/v2/spec.yaml");
    expect(urls).toContain("https://api.example.com/v2/spec.yaml/openapi.json");
    expect(urls).toContain("https://api.example.com/openapi.json");
    expect(urls).toContain("https://api.example.com/.well-known/openapi.json");
    expect(urls).toContain("https://api.example.com/swagger.json");
  });

  const doc = {
    openapi: "3.1.0",
    servers: [{ url: "https://evil.example.net/api" }],
    components: {
      schemas: { Node: { type: "object", properties: { child: { $ref: "#/components/schemas/Node" } } } },
    },
    paths: {
      "/items/{id}": {
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        get: {
          operationId: "getItem",
          summary: "One item",
          parameters: [{ name: "full", in: "query", schema: { type: "boolean" } }],
        },
        put: {
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: "#/components/schemas/Node" } } },
          },
        },
      },
    },
  };

  it("reads operations with parameters and bodies, refs inlined, calls kept on the service's origin", () => {
    const ops = operationsOf(doc, "https://api.example.com/openapi.json", "https://api.example.com/");
    expect(ops.map((o) => o.name)).toEqual(["getItem", "put_items_id"]);
    const [get, put] = ops;
    if (!get || !put) throw new Error("no operations");
    expect(get.server).toBe("https://api.example.com/api");
    expect(get.input_schema).toMatchObject({ required: ["id"], additionalProperties: false });
    expect(put.body).toBe("application/json");
    const body = (put.input_schema.properties as Record<string, { properties: { child: unknown } }>).body;
    expect(body?.properties.child).toEqual({}); // the cycle, cut
  });

  it("builds the request, refusing path values that climb", () => {
    const [get, put] = operationsOf(doc, "https://api.example.com/openapi.json", "https://api.example.com/");
    if (!get || !put) throw new Error("no operations");
    expect(requestFor(get, { id: "a/b c", full: true }).url).toBe(
      "https://api.example.com/api/items/a%2Fb%20c?full=true",
    );
    const plan = requestFor(put, { id: "x", body: { child: {} } });
    expect(plan).toMatchObject({ method: "PUT", body: '{"child":{}}' });
    expect(plan.headers["content-type"]).toBe("application/json");
    expect(() => requestFor(get, { id: ".." })).toThrow(/may not be/);
  });
});
