import { isAbsolute, normalize, sep } from "node:path";
import { GimoError } from "../../core/errors.ts";

/**
 * Confines a path the model names to the workspace, lexically: relative to it — an absolute path
 * under one of `roots` (the workspace's own path, as commands print it) is made relative to it,
 * any other leading `/` is dropped — with no `..` that leaves it, and never inside
 * `.git` (GIMO does the git work). Symlinks are not looked at here: the file tools never follow one
 * at all (workspace-fs.ts).
 */
export function confine(path: string, roots: readonly string[] = []): { relative: string } {
  if (typeof path !== "string" || path.includes("\u0000")) throw refuse(String(path), "is not a valid path");
  const root = roots.find((r) => path === r || path.startsWith(`${r}/`));
  const stripped = root ? path.slice(root.length) : path;
  const rel =
    normalize(isAbsolute(stripped) ? stripped.replace(/^\/+/, "") : stripped).replace(/\/+$/, "") || ".";
  if (rel === ".." || rel.startsWith(`..${sep}`)) throw refuse(path, "is outside the workspace");
  if (rel === ".git" || rel.startsWith(`.git${sep}`))
    throw refuse(path, "is inside .git; GIMO does the git work");
  return { relative: rel };
}

function refuse(path: string, why: string): GimoError {
  return new GimoError("forbidden", `path ${path} ${why}`);
}
