import type { ClaimedRun } from "../contract/runner.ts";
import { GimoError } from "../core/errors.ts";
import type { LlmProvider } from "../llm/port.ts";
import { createProvider } from "../llm/providers.ts";
import { type Env, resolveSecrets } from "../secrets/references.ts";
import type { ExecutorDeps } from "./executor-port.ts";
import { createSandbox } from "./sandbox/sandbox.ts";
import type { GitIdentity } from "./workspace/commit.ts";

/**
 * What the executor needs on a remote runner (`gimo runner` on another machine): the executor
 * configuration arrives with the claim, with `${VAR}` references only, and resolves from that
 * machine's environment — secrets never travel over the runner protocol. (Inside `gimo serve`,
 * src/embedded/executor-deps.ts gives the server's own provider settings and vault instead.)
 */
export function remoteExecutorDeps(opts: {
  workDir: string;
  sandbox: "on" | "off";
  sandboxUid?: number;
  sandboxCgroup?: string | undefined;
  env: Env;
  gitIdentity?: GitIdentity;
  warn: (msg: string) => void;
}): ExecutorDeps {
  return {
    // Other runs' worktrees and mirrors are this runner's business, not a command's.
    sandbox: createSandbox(opts.sandbox, {
      warn: opts.warn,
      hide: [opts.workDir],
      ...(opts.sandboxUid ? { sandboxId: opts.sandboxUid } : {}),
      ...(opts.sandboxCgroup ? { cgroup: opts.sandboxCgroup } : {}),
    }),
    workspaceRoot: opts.workDir,
    ...(opts.gitIdentity ? { gitIdentity: opts.gitIdentity } : {}),
    provider: async (job: ClaimedRun): Promise<LlmProvider> => {
      if (!job.executor)
        throw new GimoError(
          "unavailable",
          "no executor model is configured on the server (PUT /ops/provider)",
        );
      if (JSON.stringify(job.executor).includes("[redacted]")) {
        throw new GimoError(
          "unavailable",
          "the executor's API key is stored as a literal; remote runners need a ${VAR} reference set in their own environment",
        );
      }
      return createProvider(await resolveSecrets(job.executor, opts.env));
    },
    executorConfig: async (job) => (job.executor ? await resolveSecrets(job.executor, opts.env) : undefined),
    forgeToken: async (job) => {
      const reference = job.project.forge?.token;
      return reference ? await resolveSecrets(reference, opts.env).catch(() => undefined) : undefined;
    },
  };
}
