import { createBwrapSandbox } from "./bwrap.ts";
import { sandboxEnv } from "./env.ts";
import { runProcess } from "./process.ts";
import type { Sandbox, SandboxDeps } from "./sandbox-port.ts";
import { checkSpec, preview } from "./spec.ts";

export type {
  CommandResult,
  ProcessLaunch,
  RunOptions,
  Sandbox,
  SandboxDeps,
  SandboxSpec,
} from "./sandbox-port.ts";

/**
 * The sandbox port (SPEC §4.2): every command GIMO runs for a plan — setup, command steps, tests,
 * the agent's `run_command` and `search`, an agent CLI — goes through `Sandbox.run`/`runArgv`, with
 * a timeout, an output cap, resource limits and an environment holding only what the caller passes.
 *
 * Two kinds:
 *  - `bwrap` (GIMO_SANDBOX=on, the default): bubblewrap. The command sees the workspace at its
 *    own path (read-write), the rest of the filesystem read-only with credentials and GIMO's
 *    data dir masked, a private /tmp, its own PID, IPC, UTS and network namespaces, no
 *    capabilities, `no_new_privs`, a user namespace and an unprivileged uid (layout.ts,
 *    identity.ts, bwrap.ts), and the limits of `SandboxLimits` (limits.ts). With `network: true`
 *    it still has no interface to the host: its traffic goes through GIMO's egress proxy, which
 *    refuses the host's loopback and private addresses and applies the egress allowlist
 *    (network.ts). When bubblewrap is missing or fails its self-check, every run is refused with
 *    an `unavailable` error: GIMO never silently falls back.
 *  - `off` (GIMO_SANDBOX=off, explicit): runs directly, with the clean environment, the timeout
 *    and the cap only, and warns on every run.
 *
 * A timeout or an abort kills the whole process group (SIGTERM, then SIGKILL): process.ts.
 */
export function createSandbox(mode: "on" | "off", deps: SandboxDeps = {}): Sandbox {
  return mode === "on" ? createBwrapSandbox(deps) : createDirectSandbox(deps.warn ?? defaultWarn);
}

function createDirectSandbox(warn: (msg: string) => void): Sandbox {
  const sandbox: Sandbox = {
    kind: "off",
    user: undefined,
    describe: async () =>
      "no sandbox (GIMO_SANDBOX=off): commands run as GIMO's own user, with a clean environment and a timeout only",
    run: (command, spec, opts) => sandbox.runArgv(["/bin/sh", "-c", command], spec, opts),
    async runArgv(argv, spec, opts) {
      const { workspace, cwd } = await checkSpec(argv, spec);
      warn(
        `GIMO_SANDBOX=off: running without a sandbox (no filesystem or network isolation): ${preview(argv)}`,
      );
      const [file, ...args] = argv as [string, ...string[]];
      return runProcess(
        { file, args, env: sandboxEnv(spec.env), cwd: `${workspace}${cwd === "." ? "" : `/${cwd}`}` },
        spec,
        opts,
      );
    },
    async prepareProcess(argv, spec) {
      const { workspace, cwd } = await checkSpec(argv, spec);
      warn(`GIMO_SANDBOX=off: starting a process without a sandbox: ${preview(argv)}`);
      const [file, ...args] = argv as [string, ...string[]];
      const dir = `${workspace}${cwd === "." ? "" : `/${cwd}`}`;
      return { file, args, env: sandboxEnv(spec.env), cwd: dir, release: async () => {} };
    },
  };
  return sandbox;
}

function defaultWarn(msg: string): void {
  process.stderr.write(`warning: ${msg}\n`);
}
