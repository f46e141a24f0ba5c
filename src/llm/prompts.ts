import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { contentHash } from "../core/content-hash.ts";
import { GimoError } from "../core/errors.ts";

/**
 * The prompt loader (SPEC §8). Prompts are versioned Markdown under `prompts/`, read at call time
 * (edit a file, the next call uses it). A project may override any of them, or add its own `.md`
 * files to a role's directories, under `<repo>/.gimo/prompts/<same relative path>`. The result
 * carries `prompt_hash`: `sha256:` of the canonical JSON of {relative path → content} of exactly
 * the set used, recorded on every draft and run.
 *
 * A project override is read only if it is a regular file inside the repository (a symlink out of
 * the repo, say to ~/.ssh, is refused: its content would be sent to a model) and under 64 KiB.
 */
export type PromptRole = "planner" | "executor" | "verify";

/** Files of each role, in the order they are assembled. */
export const promptManifest: Record<PromptRole, readonly string[]> = {
  planner: ["system/base.md", "planner/role.md", "planner/constraints.md"],
  executor: [
    "system/base.md",
    "executor/role.md",
    "executor/coding_rules.md",
    "git/rules.md",
    "testing/rules.md",
  ],
  /** The acceptance review after the tests (runner/verify.ts). */
  verify: ["system/base.md", "executor/verify.md"],
};

export interface PromptFile {
  path: string;
  source: "builtin" | "project";
}

export interface LoadedPrompts {
  /** The assembled system prompt: every file, in order, separated by blank lines. */
  system: string;
  /** Relative path → content of every file used. */
  texts: Record<string, string>;
  files: PromptFile[];
  prompt_hash: string;
}

export interface PromptLoaderOptions {
  /** Default: the `prompts/` directory of this GIMO installation. */
  builtinDir?: string;
  /** The project's repository; its `.gimo/prompts/` overrides built-in files. */
  repoPath?: string | undefined;
}

const maxOverrideBytes = 64 * 1024;

export function builtinPromptsDir(): string {
  return fileURLToPath(new URL("../../prompts/", import.meta.url));
}

export function loadPrompts(role: PromptRole, options: PromptLoaderOptions = {}): Promise<LoadedPrompts> {
  return loadPromptSet(promptManifest[role], options);
}

/** Loads the given relative paths (plus a project's extra files in their directories). */
export async function loadPromptSet(
  paths: readonly string[],
  options: PromptLoaderOptions = {},
): Promise<LoadedPrompts> {
  const builtinDir = options.builtinDir ?? builtinPromptsDir();
  const overrideDir = options.repoPath ? join(options.repoPath, ".gimo", "prompts") : undefined;
  const extras = overrideDir ? await projectExtras(overrideDir, paths) : [];
  const texts: Record<string, string> = {};
  const files: PromptFile[] = [];
  for (const path of [...paths, ...extras]) {
    const override =
      overrideDir && options.repoPath ? await readOverride(options.repoPath, overrideDir, path) : undefined;
    if (override === undefined && !paths.includes(path)) continue;
    const content = override ?? (await readBuiltin(builtinDir, path));
    texts[path] = content;
    files.push({ path, source: override === undefined ? "builtin" : "project" });
  }
  const system = files
    .map((file) => texts[file.path]?.trim() ?? "")
    .filter((text) => text !== "")
    .join("\n\n");
  return { system, texts, files, prompt_hash: contentHash(texts) };
}

async function readBuiltin(dir: string, path: string): Promise<string> {
  try {
    return await readFile(join(dir, path), "utf8");
  } catch {
    throw new GimoError("internal", `built-in prompt prompts/${path} is missing from ${dir}`);
  }
}

async function readOverride(
  repoPath: string,
  overrideDir: string,
  path: string,
): Promise<string | undefined> {
  const candidate = join(overrideDir, path);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return undefined;
  }
  const repoReal = await realpath(repoPath);
  const inside = relative(repoReal, real);
  if (inside.startsWith("..") || inside.startsWith(sep) || inside === "") {
    throw new GimoError("forbidden", `prompt override .gimo/prompts/${path} points outside the repository`);
  }
  const info = await stat(real);
  if (!info.isFile()) return undefined;
  if (info.size > maxOverrideBytes) {
    throw new GimoError(
      "payload_too_large",
      `prompt override .gimo/prompts/${path} is ${info.size} bytes; the limit is ${maxOverrideBytes}`,
    );
  }
  return readFile(real, "utf8");
}

/** `.md` files a project added to the directories the role uses, sorted, not already listed. */
async function projectExtras(overrideDir: string, paths: readonly string[]): Promise<string[]> {
  const dirs = [...new Set(paths.map((path) => path.split("/")[0] ?? ""))];
  const extras: string[] = [];
  for (const dir of dirs) {
    const entries = await readdir(join(overrideDir, dir)).catch(() => [] as string[]);
    for (const name of entries.sort()) {
      const path = `${dir}/${name}`;
      if (name.endsWith(".md") && !paths.includes(path)) extras.push(path);
    }
  }
  return extras;
}
