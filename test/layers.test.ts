import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layers, as docs/architecture.md draws them, held by the imports themselves: everything a
 * module reaches (its imports, theirs, and so on, dynamic `import()` included; tests excluded).
 *
 * - `contract/` (the API's schemas) and `core/` (pure rules) depend on no layer that does I/O;
 * - a runner (`runner/`) and the typed client (`client/`) speak the contract only: they never
 *   reach the application services, the store or an operator — a remote runner ships without them.
 *   The embedded runner's adapters to the services live apart, in `embedded/`.
 */
const SRC = resolve(import.meta.dirname, "../src");
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2];
    if (spec?.startsWith(".")) out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** Every source file `roots` reach, as paths relative to src/. */
function reach(roots: string[]): Map<string, string> {
  const seenFrom = new Map<string, string>(); // file → the file that imported it first
  const queue = [...roots];
  for (const r of roots) seenFrom.set(r, r);
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const dep of importsOf(file)) {
      if (seenFrom.has(dep)) continue;
      seenFrom.set(dep, file);
      queue.push(dep);
    }
  }
  return new Map([...seenFrom].map(([f, by]) => [relative(SRC, f), relative(SRC, by)]));
}

function violations(layer: string, forbidden: readonly string[]): string[] {
  const reached = reach(sourceFiles(join(SRC, layer)));
  return [...reached]
    .filter(([file]) => forbidden.some((f) => file.startsWith(`${f}/`)))
    .map(([file, by]) => `${layer}/ reaches ${file} (imported by ${by})`);
}

describe("layers", () => {
  it("the runner and the client reach the contract, never the services, the store or an operator", () => {
    const forbidden = ["app", "store", "operators", "embedded", "demo"];
    expect(violations("runner", forbidden)).toEqual([]);
    expect(violations("client", forbidden)).toEqual([]);
  });

  it("the contract and the core rules reach no layer that does I/O", () => {
    const forbidden = ["app", "store", "operators", "embedded", "runner", "client", "integrations"];
    expect(violations("contract", forbidden)).toEqual([]);
    expect(violations("core", [...forbidden, "contract", "llm", "secrets"])).toEqual([]);
  });

  it("sees a violation when there is one (the check itself works)", () => {
    expect(violations("embedded", ["app"]).length).toBeGreaterThan(0);
  });
});

/** A comparison with a storage kind: `=== "postgres"`, `"sqlite" !==`, `case "postgres"`. */
const STORAGE_COMPARISON =
  /[!=]==\s*"(?:postgres|sqlite)"|"(?:postgres|sqlite)"\s*[!=]==|case\s+"(?:postgres|sqlite)"/;

/** Source lines outside src/store that compare a storage kind. */
function storageBranches(): string[] {
  return sourceFiles(SRC)
    .filter((file) => !relative(SRC, file).startsWith("store/"))
    .flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          STORAGE_COMPARISON.test(line) ? [`${relative(SRC, file)}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
}

describe("the database port", () => {
  it("nothing outside src/store behaves differently by database (which one it is is only shown)", () => {
    expect(storageBranches()).toEqual([]);
  });

  it("sees a comparison when there is one (the check itself works)", () => {
    for (const line of ['if (store.kind === "postgres")', '"sqlite" !== kind', '  case "postgres":'])
      expect(STORAGE_COMPARISON.test(line), line).toBe(true);
    expect(STORAGE_COMPARISON.test("storage: this.#ctx.store.kind,")).toBe(false);
  });
});
