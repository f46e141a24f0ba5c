import { describe, expect, it } from "vitest";
import { OutputCap } from "./output-cap.ts";

describe("the output cap", () => {
  it("keeps everything under the cap, in arrival order", () => {
    const cap = new OutputCap(100);
    for (const part of ["out 1\n", "err 1\n", "out 2\n"]) cap.push(Buffer.from(part));
    expect(cap.truncated).toBe(false);
    expect(cap.text()).toBe("out 1\nerr 1\nout 2\n");
  });

  it("keeps the head and the tail around a count of what was cut, whatever the chunking", () => {
    const text = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join("");
    for (const size of [1, 7, 64, 5000, text.length]) {
      const cap = new OutputCap(200);
      for (let i = 0; i < text.length; i += size) cap.push(Buffer.from(text.slice(i, i + size)));
      expect(cap.truncated).toBe(true);
      expect(cap.total).toBe(text.length);
      const out = cap.text();
      expect(out.startsWith(text.slice(0, 100))).toBe(true);
      expect(out.endsWith(text.slice(-100))).toBe(true);
      expect(out).toContain(`…[${text.length - 200} bytes cut]…`);
    }
  });

  it("never shows half a UTF-8 character at the cut", () => {
    const cap = new OutputCap(10); // odd halves: both sides of the cut fall inside a character
    cap.push(Buffer.from("ééééééééééééééééééé")); // 2 bytes each
    expect(cap.text()).not.toContain("\uFFFD");
  });
});
