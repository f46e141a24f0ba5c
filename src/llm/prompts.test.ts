import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { contentHash } from "../core/content-hash.ts";
import { builtinPromptsDir, loadPrompts, promptManifest } from "./prompts.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function repo(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "gimo-prompts-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe("prompt loader", () => {
  it("assembles the built-in files of a role in order and hashes exactly that set", async () => {
    const loaded = await loadPrompts("executor");
    expect(loaded.files.map((f) => f.path)).toEqual([...promptManifest.executor]);
    expect(loaded.files.every((f) => f.source === "builtin")).toBe(true);
    const texts: Record<string, string> = {};
    for (const path of promptManifest.executor)
      texts[path] = await readFile(join(builtinPromptsDir(), path), "utf8");
    expect(loaded.texts).toEqual(texts);
    expect(loaded.prompt_hash).toBe(contentHash(texts));
    expect(loaded.prompt_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(loaded.system.indexOf("# GIMO")).toBeLessThan(loaded.system.indexOf("# Your role: executor"));
    expect(loaded.system).toContain("# Testing rules");
  });

  it("lets a project override a file under .gimo/prompts, changing the hash", async () => {
    const builtin = await loadPrompts("planner");
    const dir = repo({
      ".gimo/prompts/planner/constraints.md": "# House rules\nAlways plan a migration step.",
    });
    const loaded = await loadPrompts("planner", { repoPath: dir });
    expect(loaded.files).toContainEqual({ path: "planner/constraints.md", source: "project" });
    expect(loaded.files).toContainEqual({ path: "planner/role.md", source: "builtin" });
    expect(loaded.texts["planner/constraints.md"]).toContain("Always plan a migration step.");
    expect(loaded.system).toContain("Always plan a migration step.");
    expect(loaded.system).not.toContain("# Constraints on every plan");
    expect(loaded.prompt_hash).not.toBe(builtin.prompt_hash);
    expect(loaded.prompt_hash).toBe(contentHash(loaded.texts));
  });

  it("appends a project's extra files for the role, and ignores other roles' directories", async () => {
    const dir = repo({
      ".gimo/prompts/planner/domain.md": "Prices are in cents.",
      ".gimo/prompts/executor/role.md": "not for the planner",
    });
    const loaded = await loadPrompts("planner", { repoPath: dir });
    expect(loaded.files.at(-1)).toEqual({ path: "planner/domain.md", source: "project" });
    expect(loaded.system.endsWith("Prices are in cents.")).toBe(true);
    expect(loaded.system).not.toContain("not for the planner");
  });

  it("refuses an override that links outside the repository", async () => {
    const outside = repo({ "secret.txt": "PRIVATE KEY" });
    const dir = repo();
    mkdirSync(join(dir, ".gimo/prompts/system"), { recursive: true });
    symlinkSync(join(outside, "secret.txt"), join(dir, ".gimo/prompts/system/base.md"));
    await expect(loadPrompts("planner", { repoPath: dir })).rejects.toThrow(/points outside the repository/);
  });

  it("reads at call time: an edit is used by the next load", async () => {
    const dir = repo({ ".gimo/prompts/git/rules.md": "v1" });
    const first = await loadPrompts("executor", { repoPath: dir });
    writeFileSync(join(dir, ".gimo/prompts/git/rules.md"), "v2");
    const second = await loadPrompts("executor", { repoPath: dir });
    expect(second.texts["git/rules.md"]).toBe("v2");
    expect(second.prompt_hash).not.toBe(first.prompt_hash);
  });
});
