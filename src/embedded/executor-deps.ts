import { join } from "node:path";
import type { Services } from "../app/services.ts";
import type { ProjectConfig } from "../contract/project.ts";
import type { ClaimedRun } from "../contract/runner.ts";
import type { ExecutorDeps } from "../runner/executor-port.ts";
import { createSandbox } from "../runner/sandbox/sandbox.ts";

/**
 * What the executor needs inside `gimo serve` (the embedded runner): the server's own provider
 * settings and vault, read per claim. (A remote runner resolves them from its own environment:
 * src/runner/executor-deps.ts.)
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
