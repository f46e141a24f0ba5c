#!/usr/bin/env node
// The `gimo` executable. It runs the JavaScript that `npm run build` (run by `prepare`, so by
// `npm ci`) emits into dist/, when dist/ is there and not older than any file of src/: plain JS
// spares Node's type stripper (≈17 MiB of a server's idle RSS, bench/rss). Otherwise — a checkout
// edited since its last build, or GIMO_FROM_SOURCE=1 — it runs the TypeScript sources directly
// (Node 24 strips the types), so an edit is never shadowed by a stale build. The compile cache
// (in the OS temp dir) keeps compiled modules between runs, which takes most of a command's
// start-up time away (bench/cli).
import { readdirSync, statSync } from "node:fs";
import module from "node:module";

module.enableCompileCache?.();

const root = new URL("../", import.meta.url);

/** dist/ is built and no file of src/ changed after the build (its stamp is written last). */
function builtIsFresh() {
  if (process.env.GIMO_FROM_SOURCE === "1") return false;
  let built;
  try {
    built = statSync(new URL("dist/.built", root)).mtimeMs;
  } catch {
    return false;
  }
  const src = new URL("src/", root);
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > built) return false;
  }
  return true;
}

if (builtIsFresh()) await import("../dist/operators/cli/main.js");
else await import("../src/operators/cli/main.ts");
