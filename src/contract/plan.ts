import { z } from "@hono/zod-openapi";
import { Line, Text } from "./common.ts";

/** The content of a draft: what the planner proposes and a person approves (SPEC §1). */

const StepId = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, "step ids are 1-40 letters, digits, '_', '.', '-'");

const AgentStep = z.object({
  id: StepId,
  kind: z.literal("agent"),
  title: Line(200),
  instructions: Text(20_000).min(1),
});
const CommandStep = z.object({
  id: StepId,
  kind: z.literal("command"),
  title: Line(200),
  command: Text(4_000).min(1),
  instructions: Text(20_000).optional(),
});
const TestStep = z.object({
  id: StepId,
  kind: z.literal("test"),
  title: Line(200),
  instructions: Text(20_000).optional(),
});

export const PlanStep = z.discriminatedUnion("kind", [AgentStep, CommandStep, TestStep]).openapi("PlanStep");

export const Budgets = z
  .object({
    max_turns: z.number().int().min(1).max(1_000),
    max_tokens: z.number().int().min(1_000).max(100_000_000),
    max_wall_seconds: z.number().int().min(10).max(86_400),
    max_fix_iterations: z.number().int().min(0).max(50),
  })
  .partial()
  .strict()
  .openapi("Budgets");

/** Resource limits of a run's sandbox (src/core/sandbox-limits.ts says what each one bounds). */
export const SandboxLimits = z
  .object({
    max_processes: z.number().int().min(16).max(65_536),
    max_memory_mb: z.number().int().min(64).max(1_048_576),
    max_file_mb: z.number().int().min(1).max(1_048_576),
    max_open_files: z.number().int().min(64).max(1_048_576),
    max_workspace_mb: z.number().int().min(16).max(10_485_760),
    max_commit_mb: z.number().int().min(1).max(100_000),
  })
  .partial()
  .strict()
  .openapi("SandboxLimits");

export const PlanContent = z
  .object({
    title: Line(200),
    summary: Text(20_000).default(""),
    steps: z.array(PlanStep).min(1).max(50),
    acceptance: z.array(Line(500)).max(50).default([]),
    risk: z.enum(["low", "medium", "high"]).default("low"),
    budgets: Budgets.optional(),
    limits: SandboxLimits.optional().openapi({
      description: "sandbox limits for this plan's run, within the project's sandbox.max_limits",
    }),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.steps.forEach((step, i) => {
      if (seen.has(step.id)) {
        ctx.addIssue({ code: "custom", path: ["steps", i, "id"], message: `duplicate step id ${step.id}` });
      }
      seen.add(step.id);
    });
  })
  .openapi("PlanContent");
export type PlanContent = z.infer<typeof PlanContent>;
