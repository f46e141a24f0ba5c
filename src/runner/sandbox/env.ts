import { dirname } from "node:path";

/**
 * The environment a sandboxed command sees: only what the caller passes, on top of a minimal base —
 * never GIMO's own environment, so `OPENAI_API_KEY`, `ORCH_*_TOKEN`, `GIMO_MASTER_KEY` and friends
 * cannot reach a command unless someone hands one over by name (an agent CLI gets exactly its own
 * API key, see agent-cli/).
 *
 * The base: `PATH` (the system directories plus the directory of the Node binary running GIMO, so
 * `node`/`npm` projects work), `HOME=/tmp` (the sandbox's
 * private /tmp: tools that write caches and config under ~ keep working, and nothing lands in the
 * real home), `TMPDIR=/tmp`, `LANG=C.UTF-8`, and `USER`/`LOGNAME` when the sandbox has a user name
 * of its own. The caller's values win, `PATH` included.
 */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function defaultPath(nodeBinary: string = process.execPath): string {
  const nodeDir = dirname(nodeBinary);
  return SYSTEM_PATH.split(":").includes(nodeDir) ? SYSTEM_PATH : `${nodeDir}:${SYSTEM_PATH}`;
}

export function sandboxEnv(
  given: Record<string, string> | undefined,
  path: string = defaultPath(),
  user?: string,
): Record<string, string> {
  const env: Record<string, string> = { PATH: path, HOME: "/tmp", TMPDIR: "/tmp", LANG: "C.UTF-8" };
  if (user) Object.assign(env, { USER: user, LOGNAME: user });
  for (const [key, value] of Object.entries(given ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue;
    if (typeof value !== "string" || value.includes("\u0000")) continue;
    env[key] = value;
  }
  return env;
}
