import { z } from "zod";
import type { LlmProvider, Usage } from "../llm/port.ts";

/**
 * The reasoner: after a plan's command step failed its last attempt, the executor model is shown
 * the command and the tail of its output and proposes one corrected command with the same
 * purpose. The step retries with it (steps.ts), and the command policy checks it like any other.
 */
export interface Correction {
  command: string;
  reason: string;
  usage: Usage;
}

const CORRECTION = z.object({ command: z.string().min(1).max(4_000), reason: z.string().max(1_000) });

export async function proposeCorrection(input: {
  provider: LlmProvider;
  system: string;
  command: string;
  failure: string;
  signal: AbortSignal;
}): Promise<Correction> {
  const answer = await input.provider.generateObject({
    system: input.system || "You fix shell commands.",
    messages: [
      {
        role: "user",
        content: `This command failed in the project's workspace:\n\n${input.command}\n\nIts output:\n${input.failure.slice(-3_000)}\n\nPropose one corrected command that achieves the same purpose.`,
      },
    ],
    schema: CORRECTION,
    schemaName: "corrected_command",
    signal: input.signal,
  });
  return { ...answer.value, usage: answer.usage };
}
