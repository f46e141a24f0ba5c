import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { builtIsFresh } from "../bin/built.js";

/** bin/gimo.js runs dist/ only while its build is newer than every file of src/. */
describe("builtIsFresh", () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });
  const checkout = () => {
    const root = mkdtempSync(join(tmpdir(), "gimo-built-"));
    roots.push(root);
    mkdirSync(join(root, "src/app"), { recursive: true });
    writeFileSync(join(root, "src/app/a.ts"), "export {};\n");
    utimesSync(join(root, "src/app/a.ts"), 1_000, 1_000);
    return root;
  };
  const url = (root: string) => pathToFileURL(`${root}/`);
  const build = (root: string, at: number) => {
    mkdirSync(join(root, "dist"), { recursive: true });
    writeFileSync(join(root, "dist/.built"), "x\n");
    utimesSync(join(root, "dist/.built"), at, at);
  };

  it("is false without a build, true after one, false again once a source file changes", () => {
    const root = checkout();
    expect(builtIsFresh(url(root), {})).toBe(false);
    build(root, 2_000);
    expect(builtIsFresh(url(root), {})).toBe(true);
    utimesSync(join(root, "src/app/a.ts"), 3_000, 3_000);
    expect(builtIsFresh(url(root), {})).toBe(false);
  });

  it("is false for a file added after the build, and whenever GIMO_FROM_SOURCE=1", () => {
    const root = checkout();
    build(root, 2_000);
    expect(builtIsFresh(url(root), { GIMO_FROM_SOURCE: "1" })).toBe(false);
    writeFileSync(join(root, "src/app/b.ts"), "export {};\n");
    expect(builtIsFresh(url(root), {})).toBe(false);
  });
});
