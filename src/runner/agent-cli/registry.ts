import { basename } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { type AgentCliAdapter, type AgentCliKind, agentCliKinds } from "./adapter.ts";
import { claudeAdapter } from "./claude.ts";
import { codexAdapter } from "./codex.ts";
import { geminiAdapter } from "./gemini.ts";
import { opencodeAdapter } from "./opencode.ts";
import { qwenAdapter } from "./qwen.ts";

/**
 * Which adapter an `agent_cli` executor uses: its `cli` kind when the configuration names one,
 * else the kind its `command` is named after (`/opt/bin/claude` → claude), else a clear error.
 */
export const adapters: Record<AgentCliKind, AgentCliAdapter> = {
  claude: claudeAdapter,
  codex: codexAdapter,
  gemini: geminiAdapter,
  opencode: opencodeAdapter,
  qwen: qwenAdapter,
};

export function isAgentCliKind(kind: string): kind is AgentCliKind {
  return (agentCliKinds as readonly string[]).includes(kind);
}

export function resolveAdapter(options: { cli?: string; command?: string } | undefined): AgentCliAdapter {
  const kind = options?.cli ?? (options?.command ? basename(options.command) : undefined);
  if (kind && isAgentCliKind(kind)) return adapters[kind];
  throw new GimoError(
    "unprocessable",
    options?.cli
      ? `unknown agent CLI "${options.cli}"; GIMO knows ${agentCliKinds.join(", ")}`
      : `cannot tell which agent CLI to run${options?.command ? ` from the command ${options.command}` : ""}; set options.cli to one of ${agentCliKinds.join(", ")}`,
  );
}

/**
 * Why an `agent_cli` provider configuration cannot work, as a 422 — checked when it is configured
 * (`PUT /ops/provider`) and again when a run starts: the CLI is unknown, or its adapter refuses it
 * (adapter.ts `refusal`).
 */
export function checkAgentCli(config: {
  model: string;
  base_url?: string | undefined;
  options?: { cli?: string; command?: string; api_key_env?: string } | undefined;
}): AgentCliAdapter {
  const adapter = resolveAdapter(config.options);
  const refusal = adapter.refusal?.({
    model: config.model,
    ...(config.base_url ? { baseUrl: config.base_url } : {}),
    ...(config.options?.api_key_env ? { options: { apiKeyEnv: config.options.api_key_env } } : {}),
  });
  if (refusal) throw new GimoError("unprocessable", refusal, { cli: adapter.kind });
  return adapter;
}
