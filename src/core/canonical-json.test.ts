import { describe, expect, it } from "vitest";
import { canonicalJson, contentHash } from "./canonical-json.ts";

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
});
