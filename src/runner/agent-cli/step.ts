import type { BudgetMeter } from "../../core/budgets.ts";
import type { ProviderConfig } from "../../llm/config.ts";
import type { RunContext } from "../handler.ts";
import { RunFailed } from "../run-failed.ts";
import type { Sandbox, SandboxSpec } from "../sandbox/sandbox.ts";
import { checkAgentCli } from "./registry.ts";
import { runAgentCli } from "./run.ts";

/**
 * One piece of agent work done by a coding-agent CLI (the executor's `agent_cli` type): the
 * adapter is checked again when the run starts, the CLI runs with the instruction in the run's
 * sandbox (run.ts), its usage counts against the run's budgets, and a CLI that fails ends the run
 * (`agent_cli_failed`, with the tail of its output). Returns the CLI's summary of what it did.
 */
export async function agentCliStep(
  config: ProviderConfig,
  instruction: string,
  run: { ctx: RunContext; meter: BudgetMeter; workspace: string; sandbox: Sandbox; spec: SandboxSpec },
): Promise<string> {
  const { ctx, meter } = run;
  const adapter = checkAgentCli(config);
  meter.check();
  ctx.log("info", `running ${adapter.kind} as the executor`);
  const result = await runAgentCli(
    adapter,
    {
      prompt: instruction,
      model: config.model,
      workspace: run.workspace,
      ...(config.api_key ? { apiKey: config.api_key } : {}),
      ...(config.base_url ? { apiHosts: [new URL(config.base_url).host], baseUrl: config.base_url } : {}),
      options: {
        command: config.options?.command,
        args: config.options?.args,
        apiKeyEnv: config.options?.api_key_env,
      },
    },
    run.sandbox,
    run.spec,
    { onLog: (level, msg) => ctx.log(level, msg), signal: ctx.signal },
  );
  ctx.signal.throwIfAborted();
  meter.addTurn(result.usage);
  if (!result.ok) {
    throw new RunFailed({
      code: "agent_cli_failed",
      message: `${adapter.kind} failed: ${result.command.output.slice(-1_500)}`,
    });
  }
  return result.summary ?? `${adapter.kind} finished`;
}
