import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { GimoError } from "../../core/errors.ts";

/**
 * Confines a path the model names to the workspace: relative to it, no `..` escape, no symlink
 * pointing out of it (the nearest existing ancestor is resolved), and never inside `.git`.
 */
export async function confine(
  workspace: string,
  path: string,
): Promise<{ absolute: string; relative: string }> {
  if (typeof path !== "string" || path.includes("\u0000")) throw refuse(String(path), "is not a valid path");
  const root = await realpath(workspace);
  const target = resolve(root, isAbsolute(path) ? path.replace(/^\/+/, "") : path);
  const rel = relative(root, target);
  if (rel.startsWith("..") || isAbsolute(rel)) throw refuse(path, "is outside the workspace");
  if (rel === ".git" || rel.startsWith(`.git${sep}`))
    throw refuse(path, "is inside .git; GIMO does the git work");
  const real = await nearestReal(target);
  const realRel = relative(root, real);
  if (realRel.startsWith("..") || isAbsolute(realRel))
    throw refuse(path, "leads outside the workspace through a symlink");
  return { absolute: target, relative: rel === "" ? "." : rel };
}

async function nearestReal(path: string): Promise<string> {
  let current = path;
  for (;;) {
    try {
      const real = await realpath(current);
      return current === path ? real : resolve(real, relative(current, path));
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      current = parent;
    }
  }
}

function refuse(path: string, why: string): GimoError {
  return new GimoError("forbidden", `path ${path} ${why}`);
}
