import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json.ts";
import { contentHash } from "./content-hash.ts";

describe("canonical JSON", () => {
  it("sorts keys at every depth and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("hashes plans that differ only in key order the same, and different plans differently", () => {
    const a = { title: "x", steps: [{ id: "s1", kind: "test", title: "t" }] };
    const b = { steps: [{ title: "t", kind: "test", id: "s1" }], title: "x" };
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(contentHash({ ...a, title: "y" })).not.toBe(contentHash(a));
  });

  it("escapes strings as JSON does, unicode included", () => {
    expect(canonicalJson({ é: "línea\n\u0000😀" })).toBe(JSON.stringify({ é: "línea\n\u0000😀" }));
  });

  it("orders keys by code point whatever order they were inserted in", () => {
    const keys = ["z", "b", "B", "aa", "a", "_", "10", "9", "é", "Z"];
    const value = Object.fromEntries(keys.map((k) => [k, 1]));
    expect(canonicalJson(value)).toBe('{"10":1,"9":1,"B":1,"Z":1,"_":1,"a":1,"aa":1,"b":1,"z":1,"é":1}');
  });

  it("writes primitives as JSON does, and what JSON cannot hold as null", () => {
    expect(canonicalJson("x")).toBe('"x"');
    expect(canonicalJson(12.5)).toBe("12.5");
    expect(canonicalJson(true)).toBe("true");
    expect(canonicalJson(null)).toBe("null");
    expect(canonicalJson(undefined)).toBe("null");
    expect(canonicalJson([1, undefined, () => 1])).toBe("[1,null,null]");
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson([])).toBe("[]");
  });
});
