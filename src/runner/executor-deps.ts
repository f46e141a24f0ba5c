import { join } from "node:path";
import type { Services } from "../app/services.ts";
import type { ProjectConfig } from "../contract/project.ts";
import type { ClaimedRun } from "../contract/runner.ts";
import { GimoError } from "../core/errors.ts";
import type { LlmProvider } from "../llm/port.ts";
import { createProvider } from "../llm/providers.ts";
import { type Env, resolveSecrets } from "../secrets/references.ts";
import type { ExecutorDeps } from "./executor-port.ts";
import { createSandbox } from "./sandbox/sandbox.ts";
import type { GitIdentity } from "./workspace/commit.ts";

/**
 * What the executor needs, for the two kinds of runner.
 *
 * Embedded (inside `gimo serve`): the server's own provider settings and vault.
 * Remote (`gimo runner` on another machine): the executor configuration arrives with the claim,
 * with `${VAR}` references only, and resolves from that machine's environment — secrets never
 * travel over the runner protocol.
 */
export function embeddedExecutorDeps(services: Services, warn: (msg: string) => void): ExecutorDeps {
  const { config } = services.ctx;
  return {
    // GIMO's data dir (database, admin token, vault key) is invisible to every command.
    sandbox: createSandbox(config.sandbox, {
      warn,
      hide: [config.dataDir],
      sandboxId: config.sandboxUid,
      ...(config.sandboxCgroup ? { cgroup: config.sandboxCgroup } : {}),
    }),
    workspaceRoot: join(config.dataDir, "work"),
    gitIdentity: config.gitIdentity,
    provider: async (job) =>
      services.providers.provider("executor", (await projectConfig(services, job))?.executor),
    executorConfig: async (job) => {
      const override = (await projectConfig(services, job))?.executor;
      const found = await services.providers.configFor("executor", override).catch(() => undefined);
      return found ? services.providers.resolveConfig(found) : undefined;
    },
    forgeToken: async (job) => {
      const token = (await projectConfig(services, job))?.forge?.token;
      return token ? services.providers.resolveReference(token) : undefined;
    },
  };
}

/** The project's stored settings (the claim's view hides literal secrets; the server may read them). */
async function projectConfig(services: Services, job: ClaimedRun): Promise<ProjectConfig | undefined> {
  const row = await services.ctx.store.db
    .selectFrom("projects")
    .select("config")
    .where("id", "=", job.project.id)
    .executeTakeFirst();
  return row ? (JSON.parse(row.config) as ProjectConfig) : undefined;
}

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
