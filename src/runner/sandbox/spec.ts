import { stat } from "node:fs/promises";
import { isAbsolute, normalize, relative, resolve } from "node:path";
import { GimoError } from "../../core/errors.ts";
import type { SandboxSpec } from "./sandbox-port.ts";

/**
 * Checks shared by both sandbox kinds before anything runs: a non-empty argv without NUL bytes, an
 * absolute workspace that is a directory, a working directory inside it (answered relative to the
 * workspace, "." for the workspace itself), a positive timeout and cap. A bad spec is the caller's
 * bug, so it throws (`bad_request`) instead of becoming a result.
 */
export async function checkSpec(
  argv: string[],
  spec: SandboxSpec,
): Promise<{ workspace: string; cwd: string }> {
  if (argv.length === 0 || typeof argv[0] !== "string" || argv[0] === "") {
    throw new GimoError("bad_request", "nothing to run: the command is empty");
  }
  if (argv.some((a) => typeof a !== "string" || a.includes("\u0000"))) {
    throw new GimoError("bad_request", "a command argument contains a NUL byte");
  }
  if (!isAbsolute(spec.workspace))
    throw new GimoError("bad_request", `the workspace ${spec.workspace} is not an absolute path`);
  const workspace = resolve(spec.workspace);
  const info = await stat(workspace).catch(() => undefined);
  if (!info?.isDirectory())
    throw new GimoError("bad_request", `the workspace ${workspace} is not a directory`);
  const cwd = normalize(spec.cwd ?? ".");
  if (isAbsolute(cwd) || !isInside(workspace, resolve(workspace, cwd)))
    throw new GimoError("bad_request", `the working directory ${spec.cwd} is outside the workspace`);
  if (!(spec.timeoutMs > 0) || !(spec.outputCapBytes > 0)) {
    throw new GimoError("bad_request", "a command needs a positive timeout and output cap");
  }
  return { workspace, cwd: relative(workspace, resolve(workspace, cwd)) || "." };
}

export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

export function preview(argv: string[]): string {
  const text = argv[0] === "/bin/sh" && argv[1] === "-c" ? (argv[2] ?? "") : argv.join(" ");
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
