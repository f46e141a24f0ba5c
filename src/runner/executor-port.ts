import type { ClaimedRun } from "../contract/runner.ts";
import type { ProviderConfig } from "../llm/config.ts";
import type { LlmProvider } from "../llm/port.ts";
import type { Sandbox } from "./sandbox/sandbox-port.ts";
import type { GitIdentity } from "./workspace/commit.ts";

/** What the executor (executor.ts) needs from the runner it runs in: sandbox, models, secrets. */
export interface ExecutorDeps {
  sandbox: Sandbox;
  /** Where this runner keeps mirrors and worktrees. */
  workspaceRoot: string;
  /** The executor model for a claimed run. */
  provider(job: ClaimedRun): Promise<LlmProvider>;
  /** The executor configuration with its secrets resolved (to tell an agent CLI from a model). */
  executorConfig(job: ClaimedRun): Promise<ProviderConfig | undefined>;
  /** The project's forge token, resolved on this runner; undefined when there is none. */
  forgeToken(job: ClaimedRun): Promise<string | undefined>;
  /** Who run commits are by (config.ts); GIMO <gimo@localhost> when unset. */
  gitIdentity?: GitIdentity;
  commandTimeoutMs?: number;
  outputCapBytes?: number;
}
