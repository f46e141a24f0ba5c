import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The repository's own documentation stands alone: the README links only inside the repository,
 * and every relative link in the README and docs/ reaches a file that exists (and, with an
 * anchor, a heading of that file).
 */
const root = resolve(import.meta.dirname, "..");
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const LINK = /\]\(([^)\s]+)\)/g;

function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? "")));
}

describe("the documentation", () => {
  it("README links nowhere outside the repository", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const outside = [...readme.matchAll(LINK)]
      .map((m) => m[1] ?? "")
      .filter((t) => /^[a-z]+:|^\/\/|\.\.\//i.test(t));
    expect(outside).toEqual([]);
  });

  for (const page of pages) {
    it(`${page}: every relative link resolves`, () => {
      const text = readFileSync(join(root, page), "utf8").replace(/```[\s\S]*?```/g, "");
      const broken: string[] = [];
      for (const [, target = ""] of text.matchAll(LINK)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const [path = "", anchor] = target.split("#");
        const file = path ? resolve(dirname(join(root, page)), path) : join(root, page);
        if (!file.startsWith(root) || !existsSync(file)) broken.push(target);
        else if (anchor && file.endsWith(".md") && !anchors(file).has(anchor)) broken.push(target);
      }
      expect(broken).toEqual([]);
    });
  }
});
