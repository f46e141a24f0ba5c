import { checkCommand } from "../core/command-policy.ts";
import type { CommandResult, Sandbox, SandboxSpec } from "./sandbox/sandbox.ts";

/**
 * A `command` step: the command must pass the policy, then runs in the sandbox. A failing command
 * is retried (`ATTEMPTS` in all); after the last failure the reasoner (the executor model) may
 * propose a corrected command — which must pass the policy too — and that one runs once.
 */
export const ATTEMPTS = 2;

export interface CommandStepDeps {
  sandbox: Sandbox;
  /** A fresh spec for each attempt (its timeout is what is left of the run's wall budget). */
  spec: () => SandboxSpec;
  /** Where commands see the workspace: the command policy's view. */
  workspace: string;
  io: { signal?: AbortSignal; onOutput?: (chunk: string) => void };
  protectedBranches: string[];
  reasoner?: (command: string, failureOutput: string) => Promise<string | undefined>;
  log: (level: "info" | "warn", msg: string) => void;
}

export interface CommandStepOutcome {
  ok: boolean;
  attempts: number;
  detail: string;
  result?: CommandResult;
}

export async function runCommandStep(command: string, deps: CommandStepDeps): Promise<CommandStepOutcome> {
  const refused = refusal(command, deps);
  if (refused) return { ok: false, attempts: 0, detail: refused };
  let last: CommandResult | undefined;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    deps.log("info", `$ ${command}${attempt > 1 ? ` (attempt ${attempt})` : ""}`);
    last = await deps.sandbox.run(command, deps.spec(), deps.io);
    if (deps.io.signal?.aborted) break;
    if (last.exitCode === 0) return { ok: true, attempts: attempt, detail: `exit 0`, result: last };
    deps.log("warn", `exit ${last.exitCode ?? (last.timedOut ? "timeout" : last.signal)}`);
  }
  const failure = last?.output ?? "";
  if (deps.io.signal?.aborted) return { ok: false, attempts: ATTEMPTS, detail: "stopped", result: last };
  const corrected = deps.reasoner ? await deps.reasoner(command, failure).catch(() => undefined) : undefined;
  if (!corrected || corrected.trim() === command.trim()) {
    return {
      ok: false,
      attempts: ATTEMPTS,
      detail: `\`${command}\` failed ${ATTEMPTS} times:\n${failure.slice(-2_000)}`,
      result: last,
    };
  }
  const refusedFix = refusal(corrected, deps);
  if (refusedFix)
    return { ok: false, attempts: ATTEMPTS, detail: `the corrected command was refused: ${refusedFix}` };
  deps.log("info", `$ ${corrected} (corrected by the reasoner)`);
  const fixed = await deps.sandbox.run(corrected, deps.spec(), deps.io);
  return fixed.exitCode === 0
    ? { ok: true, attempts: ATTEMPTS + 1, detail: `corrected to \`${corrected}\``, result: fixed }
    : {
        ok: false,
        attempts: ATTEMPTS + 1,
        detail: `the corrected \`${corrected}\` failed too:\n${fixed.output.slice(-2_000)}`,
        result: fixed,
      };
}

function refusal(command: string, deps: CommandStepDeps): string | undefined {
  const verdict = checkCommand(command, {
    workspace: deps.workspace,
    protectedBranches: deps.protectedBranches,
  });
  return verdict.allowed ? undefined : `refused by the command policy (${verdict.rule}): ${verdict.reason}`;
}
