import type { ClaimedRun } from "../app/queue.ts";
import type { PlanContent } from "../contract/plan.ts";
import { BudgetExceeded, BudgetMeter, effectiveBudgets } from "../core/budgets.ts";
import { contentHash } from "../core/canonical-json.ts";
import { isGimoError } from "../core/errors.ts";
import { Stuck, StuckDetector } from "../core/stuck-detector.ts";
import type { ProviderConfig } from "../llm/config.ts";
import { isProviderError } from "../llm/errors.ts";
import type { ChatMessage, LlmProvider, Usage } from "../llm/port.ts";
import { loadPrompts } from "../llm/prompts.ts";
import { runAgent } from "./agent/loop.ts";
import type { ToolContext } from "./agent/tools.ts";
import { resolveAdapter } from "./agent-cli/registry.ts";
import { runAgentCli } from "./agent-cli/run.ts";
import { deliver } from "./deliver.ts";
import { ForgeError } from "./forge/http.ts";
import type { HandlerOutcome, RunContext, RunHandler } from "./handler.ts";
import { fixInstruction, stepInstruction } from "./instructions.ts";
import { type Failure, RunFailed } from "./run-failed.ts";
import type { Sandbox, SandboxSpec } from "./sandbox/sandbox.ts";
import { runCommandStep } from "./steps.ts";
import { type TestReport, testReport } from "./test-report.ts";
import {
  type PreparedWorkspace,
  prepareWorkspace,
  removeWorkspace,
  sweepStaleWorkspaces,
} from "./workspace/workspace.ts";

/**
 * The executor: the run handler that turns an approved plan into a pushed, tested task branch.
 *
 *   approval hash recomputed (drift → fail) ─▶ worktree on task/<task id> ─▶ setup command
 *   ─▶ the plan's steps in order (agent · command · test) ─▶ the project's tests; while red and
 *   fix iterations remain, the failure goes back to the agent (edit → test → analyse → fix)
 *   ─▶ green: commit (conventional message + Gimo-Run / Gimo-Approved trailers), push the task
 *   branch (never a protected one), link, optional draft pull request ─▶ result.
 *
 * Failures of the work (red tests, a refused command, budgets, a stuck agent, drift) fail the run
 * with a machine-readable code; failures of the infrastructure (the model unreachable or rate
 * limited) are retryable, so the queue runs the attempt again later. The worktree is always removed;
 * the branch stays.
 */
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
  commandTimeoutMs?: number;
  outputCapBytes?: number;
}

export function createExecutor(deps: ExecutorDeps): RunHandler {
  // Once per runner: worktrees left by runs whose process died are removed (their branches stay).
  let swept: Promise<unknown> | undefined;
  return async (job, ctx) => {
    swept ??= sweepStaleWorkspaces({ root: deps.workspaceRoot }).catch(() => []);
    await swept;
    const plan = job.approved.plan as PlanContent;
    if (contentHash(plan) !== job.approved.content_hash) {
      return failed({
        code: "approval_drift",
        message: "the approved plan no longer matches its content hash; refusing to run it",
      });
    }
    const meter = new BudgetMeter(effectiveBudgets(job.project.budgets, plan.budgets));
    let ws: PreparedWorkspace | undefined;
    let usage: Usage = { input_tokens: 0, output_tokens: 0 };
    try {
      ctx.log("info", `preparing a worktree of ${job.project.name} for ${job.run.id}`);
      const token = await deps.forgeToken(job);
      ws = await prepareWorkspace(
        {
          runId: job.run.id,
          taskId: job.run.task_id,
          project: job.project,
          attempt: job.run.attempt,
          ...(token ? { token } : {}),
        },
        { root: deps.workspaceRoot },
      );
      ctx.log(
        "info",
        `worktree on ${ws.branch} from ${ws.baseBranch} @ ${ws.baseSha.slice(0, 12)}${ws.reusedBranch ? " (branch reused)" : ""}`,
      );
      const work = new Work(deps, job, ctx, ws, meter);
      const tests = await work.execute(plan);
      usage = work.usage;
      return { status: "succeeded", result: await deliver(deps, job, ctx, ws, plan, tests, usage) };
    } catch (error) {
      return failed(toFailure(error, ctx), {
        usage: { input_tokens: meter.inputTokens, output_tokens: meter.outputTokens },
      });
    } finally {
      if (ws)
        await removeWorkspace(ws).catch((e) =>
          ctx.log("warn", `could not remove the worktree: ${String(e)}`),
        );
    }
  };
}

/** The steps and the fix loop of one run. */
class Work {
  readonly #deps: ExecutorDeps;
  readonly #job: ClaimedRun;
  readonly #ctx: RunContext;
  readonly #ws: PreparedWorkspace;
  readonly #meter: BudgetMeter;
  readonly #stuck = new StuckDetector();
  readonly #messages: ChatMessage[] = [];
  #spec: SandboxSpec;
  #provider: LlmProvider | undefined;
  #system = "";

  constructor(
    deps: ExecutorDeps,
    job: ClaimedRun,
    ctx: RunContext,
    ws: PreparedWorkspace,
    meter: BudgetMeter,
  ) {
    this.#deps = deps;
    this.#job = job;
    this.#ctx = ctx;
    this.#ws = ws;
    this.#meter = meter;
    this.#spec = {
      workspace: ws.path,
      network: job.project.sandbox.network,
      env: {},
      timeoutMs: deps.commandTimeoutMs ?? 600_000,
      outputCapBytes: deps.outputCapBytes ?? 1_000_000,
      extraWritable: [ws.gitDir],
    };
  }

  get usage(): Usage {
    return { input_tokens: this.#meter.inputTokens, output_tokens: this.#meter.outputTokens };
  }

  async execute(plan: PlanContent): Promise<TestReport | null> {
    const project = this.#job.project;
    // Only the worktree's own git dir is writable: GIMO commits outside the sandbox, and the shared
    // object store (the user's history, for a repo_path project) must stay out of the agent's reach.
    this.#spec = { ...this.#spec, extraWritable: [this.#ws.gitDir] };
    if (project.setup_command) {
      const setup = await this.#deps.sandbox.run(project.setup_command, this.#spec, this.#io());
      if (setup.exitCode !== 0)
        throw new RunFailed({
          code: "setup_failed",
          message: `the setup command failed:\n${setup.output.slice(-2_000)}`,
        });
    }
    let last: TestReport | null = null;
    let testedSinceChange = false;
    for (const step of plan.steps) {
      this.#ctx.step({ id: step.id, status: "running" });
      if (step.kind === "agent") {
        const summary = await this.#agent(stepInstruction(plan, step.title, step.instructions));
        this.#ctx.step({ id: step.id, status: "succeeded", detail: summary });
        testedSinceChange = false;
      } else if (step.kind === "command") {
        const outcome = await runCommandStep(step.command, {
          sandbox: this.#deps.sandbox,
          spec: this.#spec,
          io: this.#io(),
          protectedBranches: project.protected_branches,
          reasoner: async (failure) => this.#reason(step.command, failure),
          log: this.#ctx.log,
        });
        this.#ctx.step({
          id: step.id,
          status: outcome.ok ? "succeeded" : "failed",
          detail: outcome.detail,
          attempts: outcome.attempts,
        });
        if (!outcome.ok)
          throw new RunFailed({
            code: "command_failed",
            message: `step ${step.id} failed: ${outcome.detail}`,
          });
        testedSinceChange = false;
      } else {
        last = await this.#test();
        testedSinceChange = true;
        this.#ctx.step({
          id: step.id,
          status: last === null || last.exit_code === 0 ? "succeeded" : "failed",
        });
      }
    }
    return this.#testAndFix(testedSinceChange ? last : undefined);
  }

  /** The project's tests; while red and iterations remain, the agent fixes (edit → test → analyse → fix). */
  async #testAndFix(fresh: TestReport | null | undefined): Promise<TestReport | null> {
    let report = fresh !== undefined ? fresh : await this.#test();
    const limit = this.#meter.limits.max_fix_iterations;
    while (report && report.exit_code !== 0) {
      if (this.#meter.fixIterations >= limit) {
        throw new RunFailed(
          {
            code: "tests_failed",
            message: `the tests still fail after ${limit} fix iteration${limit === 1 ? "" : "s"}`,
          },
          { tests: report },
        );
      }
      this.#meter.fixIterations += 1;
      this.#stuck.recordError(report.output_tail);
      this.#ctx.log("info", `tests failed; fix iteration ${this.#meter.fixIterations} of ${limit}`);
      await this.#agent(fixInstruction(report));
      report = await this.#test();
    }
    return report;
  }

  async #test(): Promise<TestReport | null> {
    const command = this.#job.project.test_command;
    if (!command) return null;
    this.#ctx.log("info", `running the tests: ${command}`);
    const result = await this.#deps.sandbox.run(command, this.#spec, this.#io());
    const report = testReport(command, result);
    this.#ctx.log(
      report.exit_code === 0 ? "info" : "warn",
      `tests ${report.exit_code === 0 ? "passed" : "failed"} (exit ${report.exit_code})`,
    );
    return report;
  }

  /** One piece of agent work: GIMO's own agent loop, or a coding-agent CLI when configured so. */
  async #agent(instruction: string): Promise<string> {
    const config = await this.#deps.executorConfig(this.#job);
    if (config?.type !== "agent_cli") return (await runAgent(await this.#session(), instruction)).summary;
    const adapter = resolveAdapter(config.options);
    this.#meter.check();
    this.#ctx.log("info", `running ${adapter.kind} as the executor`);
    const result = await runAgentCli(
      adapter,
      {
        prompt: instruction,
        model: config.model,
        workspace: this.#ws.path,
        ...(config.api_key ? { apiKey: config.api_key } : {}),
        options: {
          command: config.options?.command,
          args: config.options?.args,
          apiKeyEnv: config.options?.api_key_env,
        },
      },
      this.#deps.sandbox,
      { ...this.#spec, timeoutMs: Math.max(1_000, this.#meter.secondsLeft * 1000) },
      { onLog: (level, msg) => this.#ctx.log(level, msg), signal: this.#ctx.signal },
    );
    this.#meter.addTurn(result.usage);
    if (!result.ok) {
      throw new RunFailed({
        code: "agent_cli_failed",
        message: `${adapter.kind} failed: ${result.command.output.slice(-1_500)}`,
      });
    }
    return result.summary ?? `${adapter.kind} finished`;
  }

  async #session() {
    if (!this.#provider) {
      this.#provider = await this.#deps.provider(this.#job);
      const prompts = await loadPrompts("executor", { repoPath: this.#ws.path });
      this.#system = prompts.system;
      this.#ctx.log("info", `executor ${this.#provider.label}, prompts ${prompts.prompt_hash}`);
    }
    const tools: ToolContext = {
      workspace: this.#ws.path,
      sandbox: this.#deps.sandbox,
      sandboxSpec: this.#spec,
      testCommand: this.#job.project.test_command ?? undefined,
      protectedBranches: this.#job.project.protected_branches,
      signal: this.#ctx.signal,
      onOutput: (chunk) => this.#ctx.log("debug", chunk),
    };
    return {
      provider: this.#provider,
      system: this.#system,
      messages: this.#messages,
      tools,
      meter: this.#meter,
      stuck: this.#stuck,
      log: this.#ctx.log,
      signal: this.#ctx.signal,
    };
  }

  /** The reasoner: the executor model proposes a corrected command after the last failed attempt. */
  async #reason(command: string, failure: string): Promise<string | undefined> {
    const provider = this.#provider ?? (await this.#session()).provider;
    const { z } = await import("zod");
    const answer = await provider.generateObject({
      system: this.#system || "You fix shell commands.",
      messages: [
        {
          role: "user",
          content: `This command failed in the project's workspace:\n\n${command}\n\nIts output:\n${failure.slice(-3_000)}\n\nPropose one corrected command that achieves the same purpose.`,
        },
      ],
      schema: z.object({ command: z.string().min(1).max(4_000), reason: z.string().max(1_000) }),
      schemaName: "corrected_command",
      signal: this.#ctx.signal,
    });
    this.#meter.addTurn(answer.usage);
    this.#ctx.log("info", `reasoner proposes: ${answer.value.command} (${answer.value.reason})`);
    return answer.value.command;
  }

  #io() {
    return { signal: this.#ctx.signal, onOutput: (chunk: string) => this.#ctx.log("debug", chunk) };
  }
}

function toFailure(error: unknown, ctx: RunContext): Failure & { result?: Record<string, unknown> } {
  if (error instanceof RunFailed) return { ...error.failure, details: error.result };
  if (error instanceof BudgetExceeded)
    return { code: "budget_exceeded", message: error.message, details: { budget: error.budget } };
  if (error instanceof Stuck) return { code: "stuck", message: error.message };
  if (isProviderError(error)) {
    const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
    return {
      code: error.code === "rate_limited" ? "provider_rate_limited" : "provider_unavailable",
      message: error.message,
      retryable: true,
      ...(retryAfter !== undefined ? { retry_after_seconds: retryAfter } : {}),
    };
  }
  if (error instanceof ForgeError) {
    return { code: error.code, message: error.message, ...(error.retryable ? { retryable: true } : {}) };
  }
  if (ctx.signal.aborted) return { code: "aborted", message: String(ctx.signal.reason) };
  if (isGimoError(error) && error.code === "forbidden")
    return { code: "policy_refused", message: error.message };
  return { code: "executor_error", message: error instanceof Error ? error.message : String(error) };
}

function failed(
  failure: Failure & { details?: unknown },
  result: Record<string, unknown> = {},
): HandlerOutcome {
  const details = failure.details as Record<string, unknown> | undefined;
  return {
    status: "failed",
    error: failure,
    result: { ...result, ...(details?.tests ? { tests: details.tests } : {}) },
  };
}
