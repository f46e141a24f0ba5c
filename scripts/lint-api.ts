import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadConfig } from "../src/config.ts";
import { createGimo } from "../src/gimo.ts";
import { createLogger } from "../src/log.ts";

/**
 * `npm run lint:api`: writes `/openapi.json` and `/openapi.actions.json` as a fresh server serves
 * them, then lints both with two independent linters — Spectral (`.spectral.yaml`: the
 * `spectral:oas` recommended rules; `.spectral.actions.yaml` adds the ChatGPT Actions limits of the
 * contract for the Actions document) and Redocly CLI (`redocly.yaml`: recommended-strict). Any error or warning fails the check; a rule that
 * does not apply is switched off in its ruleset with the reason written beside it.
 * `--keep DIR` writes the documents to DIR and leaves them there.
 */
const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

async function writeDocuments(dir: string): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "gimo-lint-api-"));
  const config = loadConfig({ GIMO_DATA_DIR: dataDir, GIMO_EMBEDDED_RUNNERS: "0", GIMO_RATE_LIMIT_RPS: "0" });
  const gimo = await createGimo(config, { logger: createLogger("silent") });
  try {
    const files: string[] = [];
    for (const name of ["openapi.json", "openapi.actions.json"]) {
      const res = await gimo.app.request(`/${name}`);
      if (!res.ok) throw new Error(`GET /${name} answered ${res.status}`);
      const file = join(dir, name);
      writeFileSync(file, `${JSON.stringify(await res.json(), null, 2)}\n`);
      files.push(file);
    }
    return files;
  } finally {
    await gimo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function lint(label: string, command: string, args: string[]): Promise<boolean> {
  try {
    // The linters' own shebangs find Node 24 first, as under `npm run`.
    const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };
    const { stdout, stderr } = await run(command, args, { cwd: root, env, maxBuffer: 16 * 1024 * 1024 });
    process.stdout.write(`✓ ${label}\n${indent(stdout + stderr)}`);
    return true;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    process.stdout.write(`✗ ${label}\n${indent(`${e.stdout ?? ""}${e.stderr ?? ""}` || e.message)}`);
    return false;
  }
}

function indent(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  return lines.length ? `${lines.map((l) => `    ${l}`).join("\n")}\n` : "";
}

const keep = process.argv.indexOf("--keep");
const dir = keep >= 0 ? (process.argv[keep + 1] ?? ".") : mkdtempSync(join(tmpdir(), "gimo-openapi-"));
try {
  const files = await writeDocuments(dir);
  let ok = true;
  for (const file of files) {
    const name = file.split("/").at(-1);
    ok =
      (await lint(`Spectral ${name}`, bin("spectral"), [
        "lint",
        "--ruleset",
        join(root, name === "openapi.actions.json" ? ".spectral.actions.yaml" : ".spectral.yaml"),
        "--fail-severity",
        "warn",
        "--display-only-failures",
        file,
      ])) && ok;
    ok =
      (await lint(`Redocly ${name}`, bin("redocly"), [
        "lint",
        "--config",
        join(root, "redocly.yaml"),
        "--max-problems",
        "200",
        file,
      ])) && ok;
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  if (keep < 0) rmSync(dir, { recursive: true, force: true });
}
