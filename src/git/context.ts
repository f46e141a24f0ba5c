import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * What the planner is shown of a repository: a summary of its file tree, its README, and the
 * context files people keep for agents (`GPT_CONTEXT.md`, `DECISIONS.md`, `AGENTS.md`,
 * `CLAUDE.md`, `.gimo/context.md`) when present. Bounded, so a huge repository cannot flood the
 * prompt. Reads the committed tree of HEAD (what a run would start from), not uncommitted files.
 */
export const CONTEXT_FILES = ["GPT_CONTEXT.md", "DECISIONS.md", "AGENTS.md", "CLAUDE.md", ".gimo/context.md"];
const MAX_PATHS = 300;
const MAX_FILE_CHARS = 12_000;

export async function repositoryContext(repoPath: string): Promise<string> {
  const files = await trackedFiles(repoPath);
  const parts: string[] = [`## File tree (${files.length} tracked files)`, treeSummary(files)];
  const readme = files.find((f) => /^readme(\.md|\.txt|\.rst)?$/i.test(f));
  for (const name of [readme, ...CONTEXT_FILES]) {
    if (!name || !files.includes(name)) continue;
    const text = await headFile(repoPath, name);
    if (text) parts.push(`## ${name}`, clip(text));
  }
  return parts.join("\n\n");
}

export interface ContextFile {
  path: string;
  text: string;
  truncated: boolean;
}

/** The same reading as `repositoryContext`, as data: the README and context files, and the tree summary. */
export async function contextFiles(repoPath: string): Promise<{ tree: string; files: ContextFile[] }> {
  const files = await trackedFiles(repoPath);
  const readme = files.find((f) => /^readme(\.md|\.txt|\.rst)?$/i.test(f));
  const found: ContextFile[] = [];
  for (const name of [readme, ...CONTEXT_FILES]) {
    if (!name || !files.includes(name)) continue;
    const text = await headFile(repoPath, name);
    if (text !== undefined)
      found.push({ path: name, text: clip(text), truncated: text.length > MAX_FILE_CHARS });
  }
  return { tree: `${files.length} tracked files\n${treeSummary(files)}`, files: found };
}

async function trackedFiles(repoPath: string): Promise<string[]> {
  try {
    const { stdout } = await run("git", ["-C", repoPath, "ls-tree", "-r", "--name-only", "HEAD"], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 20_000,
    });
    return stdout.split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function headFile(repoPath: string, name: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", ["-C", repoPath, "show", `HEAD:${name}`], {
      maxBuffer: 4 * 1024 * 1024,
    });
    return stdout;
  } catch {
    return readFile(join(repoPath, name), "utf8").catch(() => undefined);
  }
}

/** Top-level directories with file counts, then the first paths. */
function treeSummary(files: string[]): string {
  const dirs = new Map<string, number>();
  for (const f of files) {
    const top = f.includes("/") ? `${f.split("/")[0]}/` : "(root)";
    dirs.set(top, (dirs.get(top) ?? 0) + 1);
  }
  const lines = [...dirs.entries()].sort().map(([d, n]) => `- ${d} ${n} file${n === 1 ? "" : "s"}`);
  const listed = files.slice(0, MAX_PATHS).join("\n");
  const more = files.length > MAX_PATHS ? `\n… and ${files.length - MAX_PATHS} more` : "";
  return `${lines.join("\n")}\n\n${listed}${more}`;
}

function clip(text: string): string {
  return text.length > MAX_FILE_CHARS ? `${text.slice(0, MAX_FILE_CHARS)}\n…(truncated)` : text;
}
