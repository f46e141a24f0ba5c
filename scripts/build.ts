/**
 * `npm run build` (run by `prepare`, so by `npm ci`): the server's TypeScript emitted as plain
 * JavaScript into dist/ (tsc, types not checked here — `npm run typecheck` does that), the
 * non-TypeScript files of src/ copied beside it, and dist/.built written last as the stamp
 * bin/gimo.js compares with src/'s files. dist/ mirrors src/ at the same depth, so the paths the
 * code resolves from its own location (web/dist, prompts/, node_modules, package.json) hold.
 */
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")],
  {
    stdio: "inherit",
  },
);
const src = join(root, "src");
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || entry.name.endsWith(".ts")) continue;
  const from = join(entry.parentPath, entry.name);
  const to = join(dist, relative(src, from));
  cpSync(from, to);
}
writeFileSync(join(dist, ".built"), `${new Date().toISOString()}\n`);
