import { describe, expect, it } from "vitest";
import { Redactor } from "./redactor.ts";

describe("the redactor", () => {
  it("hides every occurrence of every secret, not only the first", () => {
    const r = new Redactor();
    r.add("sk-first-secret");
    r.add("second-secret");
    expect(r.redact("a sk-first-secret b sk-first-secret c second-secret second-secret")).toBe(
      "a [redacted] b [redacted] c [redacted] [redacted]",
    );
  });

  it("hides a secret repeated back to back", () => {
    const r = new Redactor();
    r.add("abcdef");
    expect(r.redact("abcdefabcdef")).toBe("[redacted][redacted]");
  });

  it("ignores values shorter than 6 characters and empty ones, and registers a value once", () => {
    const r = new Redactor();
    const seen: string[] = [];
    r.onAdd((s) => seen.push(s));
    r.add(undefined);
    r.add("");
    r.add("12345");
    r.add("123456");
    r.add("123456");
    expect(seen).toEqual(["123456"]);
    expect(r.redact("12345 123456")).toBe("12345 [redacted]");
  });

  it("tells a listener added later about the secrets already known", () => {
    const r = new Redactor();
    r.add("known-secret");
    const seen: string[] = [];
    r.onAdd((s) => seen.push(s));
    r.add("later-secret");
    expect(seen).toEqual(["known-secret", "later-secret"]);
  });

  it("leaves text without secrets untouched", () => {
    const r = new Redactor();
    r.add("a-secret-value");
    expect(r.redact("nothing to hide")).toBe("nothing to hide");
  });
});
