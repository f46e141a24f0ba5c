// Which code `gimo` runs (bin/gimo.js): the JavaScript `npm run build` emitted into dist/, or the
// TypeScript sources. dist/ is used only when its stamp (dist/.built, written last by the build)
// is newer than every file of src/ — a checkout edited since its last build runs its sources, so
// an edit is never shadowed by a stale build — and GIMO_FROM_SOURCE is not 1.
import { readdirSync, statSync } from "node:fs";

/** @param {URL} root the checkout; @param {Record<string, string | undefined>} env */
export function builtIsFresh(root, env = process.env) {
  if (env.GIMO_FROM_SOURCE === "1") return false;
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
