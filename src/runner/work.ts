import type { IntegrationTool } from "../contract/integration.ts";
import type { PlanContent } from "../contract/plan.ts";
import type { ClaimedRun } from "../contract/runner.ts";
import type { BudgetMeter } from "../core/budgets.ts";
import type { SandboxLimits } from "../core/sandbox-limits.ts";
import { StuckDetector } from "../core/stuck-detector.ts";
import type { ChatMessage, LlmProvider, Usage } from "../llm/port.ts";
import type { LoadedPrompts } from "../llm/prompts.ts";
import { runAgent } from "./agent/loop.ts";
import type { ToolContext } from "./agent/tools.ts";
import { workspaceFs } from "./agent/workspace-fs.ts";
import { resolveAdapter } from "./agent-cli/registry.ts";
import { runAgentCli } from "./agent-cli/run.ts";
import type { ExecutorDeps } from "./executor-port.ts";
import type { RunContext } from "./handler.ts";
import { fixInstruction, stepInstruction } from "./instructions.ts";
import { RunFailed } from "./run-failed.ts";
import type { CommandResult, RunOptions, Sandbox, SandboxSpec } from "./sandbox/sandbox.ts";
import { runCommandStep } from "./steps.ts";
import { type TestReport, testReport } from "./test-report.ts";
import type { PreparedWorkspace } from "./workspace/workspace.ts";

/**
 * The steps and the fix loop of one run: the setup command, the plan's steps in order (agent ·
 * command · test), then the project's tests, handed back to the agent while they fail and fix
 * iterations remain (edit → test → analyse → fix).
 *
 * Every command gets a fresh sandbox spec (`#spec`) whose timeout is cut to what is left of the
 * run's wall budget, and `ctx.signal` (the executor's: cancellation, a lost lease, or the wall
 * budget running out) stops whatever runs; after each command the signal is checked, so a budget
 * that ran out ends the run as `budget_exceeded`, never as the failure of the command it cut short.
 */
export interface WorkSetup {
  deps: ExecutorDeps;
  job: ClaimedRun;
  ctx: RunContext;
  ws: PreparedWorkspace;
  meter: BudgetMeter;
  limits: SandboxLimits;
  /** The executor's prompts, read from the worktree before any command ran. */
  prompts: LoadedPrompts;
}

export class Work {
  readonly #s: WorkSetup;
  readonly #sandbox: Sandbox;
  readonly #stuck = new StuckDetector();
  readonly #messages: ChatMessage[] = [];
  #provider: LlmProvider | undefined;
  #tools: Promise<IntegrationTool[]> | undefined;
  #toolsLogged = false;

  constructor(setup: WorkSetup) {
    this.#s = setup;
    this.#sandbox = endingOnLimits(setup.deps.sandbox);
  }

  get usage(): Usage {
    const { meter } = this.#s;
    return { input_tokens: meter.inputTokens, output_tokens: meter.outputTokens };
  }

  /** The sandbox settings for the next command. */
  #spec(): SandboxSpec {
    const { deps, job, ws, meter, limits } = this.#s;
    const base = deps.commandTimeoutMs ?? 600_000;
    return {
      workspace: ws.path,
      network: job.project.sandbox.network,
      egress: job.project.sandbox.egress ?? [],
      env: {},
      timeoutMs: Math.max(1, Math.min(base, Math.ceil(meter.secondsLeft * 1000))),
      outputCapBytes: deps.outputCapBytes ?? 1_000_000,
      limits,
    };
  }

  /** Runs one command of GIMO's own (setup, tests); a budget that ran out meanwhile ends the run. */
  async #command(command: string): Promise<CommandResult> {
    const result = await this.#sandbox.run(command, this.#spec(), this.#io());
    this.#s.ctx.signal.throwIfAborted();
    return result;
  }

  async execute(plan: PlanContent): Promise<TestReport | null> {
    const { job, ctx, deps } = this.#s;
    const project = job.project;
    ctx.log("info", `sandbox: ${await deps.sandbox.describe(this.#spec())}`);
    if (project.setup_command) {
      const setup = await this.#command(project.setup_command);
      if (setup.exitCode !== 0)
        throw new RunFailed({
          code: "setup_failed",
          message: `the setup command failed:\n${setup.output.slice(-2_000)}`,
        });
    }
    let last: TestReport | null = null;
    let testedSinceChange = false;
    let lastAgentStep: string | undefined;
    for (const step of plan.steps) {
      ctx.step({ id: step.id, status: "running" });
      if (step.kind === "agent") {
        const summary = await this.#agent(stepInstruction(plan, step.title, step.instructions));
        ctx.step({ id: step.id, status: "succeeded", detail: summary });
        lastAgentStep = step.id;
        testedSinceChange = false;
      } else if (step.kind === "command") {
        const outcome = await runCommandStep(step.command, {
          sandbox: this.#sandbox,
          spec: () => this.#spec(),
          workspace: this.#s.ws.path,
          io: this.#io(),
          protectedBranches: project.protected_branches,
          reasoner: async (failure) => this.#reason(step.command, failure),
          log: ctx.log,
        });
        ctx.signal.throwIfAborted();
        ctx.step({
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
        ctx.step({
          id: step.id,
          status: last === null || last.exit_code === 0 ? "succeeded" : "failed",
        });
      }
    }
    return this.#testAndFix(testedSinceChange ? last : undefined, lastAgentStep);
  }

  /**
   * The project's tests; while red and iterations remain, the agent fixes (edit → test → analyse →
   * fix). The fixes continue the last agent step's work: each iteration reopens that step (another
   * attempt), so a fix loop that ends stuck or red shows the step failed, not succeeded.
   */
  async #testAndFix(fresh: TestReport | null | undefined, fixStep?: string): Promise<TestReport | null> {
    const { meter, ctx } = this.#s;
    let report = fresh !== undefined ? fresh : await this.#test();
    const limit = meter.limits.max_fix_iterations;
    while (report && report.exit_code !== 0) {
      if (meter.fixIterations >= limit) {
        throw new RunFailed(
          {
            code: "tests_failed",
            message: `the tests still fail after ${limit} fix iteration${limit === 1 ? "" : "s"}`,
          },
          { tests: report },
        );
      }
      meter.fixIterations += 1;
      if (fixStep)
        ctx.step({ id: fixStep, status: "running", detail: `fix iteration ${meter.fixIterations}` });
      this.#stuck.recordError(report.output_tail);
      ctx.log("info", `tests failed; fix iteration ${meter.fixIterations} of ${limit}`);
      await this.#agent(fixInstruction(report));
      report = await this.#test();
    }
    if (fixStep && meter.fixIterations > 0) {
      const n = meter.fixIterations;
      ctx.step({
        id: fixStep,
        status: "succeeded",
        detail: `the tests pass after ${n} fix iteration${n === 1 ? "" : "s"}`,
      });
    }
    return report;
  }

  async #test(): Promise<TestReport | null> {
    const command = this.#s.job.project.test_command;
    if (!command) return null;
    this.#s.ctx.log("info", `running the tests: ${command}`);
    const report = testReport(command, await this.#command(command));
    this.#s.ctx.log(
      report.exit_code === 0 ? "info" : "warn",
      `tests ${report.exit_code === 0 ? "passed" : "failed"} (exit ${report.exit_code})`,
    );
    return report;
  }

  /** One piece of agent work: GIMO's own agent loop, or a coding-agent CLI when configured so. */
  async #agent(instruction: string): Promise<string> {
    const { deps, job, ctx, meter, ws } = this.#s;
    const config = await deps.executorConfig(job);
    if (config?.type !== "agent_cli") return (await runAgent(await this.#session(), instruction)).summary;
    const adapter = resolveAdapter(config.options);
    meter.check();
    ctx.log("info", `running ${adapter.kind} as the executor`);
    const result = await runAgentCli(
      adapter,
      {
        prompt: instruction,
        model: config.model,
        workspace: ws.path,
        ...(config.api_key ? { apiKey: config.api_key } : {}),
        ...(config.base_url ? { apiHosts: [new URL(config.base_url).host] } : {}),
        options: {
          command: config.options?.command,
          args: config.options?.args,
          apiKeyEnv: config.options?.api_key_env,
        },
      },
      this.#sandbox,
      this.#spec(),
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

  async #session() {
    const { deps, job, ctx, ws, meter, prompts } = this.#s;
    if (!this.#provider) {
      this.#provider = await deps.provider(job);
      ctx.log("info", `executor ${this.#provider.label}, prompts ${prompts.prompt_hash}`);
    }
    const tools: ToolContext = {
      files: workspaceFs(ws.path, deps.sandbox.user),
      workspace: ws.path,
      sandbox: this.#sandbox,
      sandboxSpec: () => this.#spec(),
      testCommand: job.project.test_command ?? undefined,
      protectedBranches: job.project.protected_branches,
      signal: ctx.signal,
      onOutput: (chunk) => ctx.log("debug", chunk),
      ...(await this.#integrations()),
    };
    return {
      provider: this.#provider,
      system: prompts.system,
      messages: this.#messages,
      tools,
      meter,
      stuck: this.#stuck,
      log: ctx.log,
      signal: ctx.signal,
    };
  }

  /** The run's integration tools, asked for once (none when the runner offers no integrations). */
  async #integrations(): Promise<Pick<ToolContext, "integrations">> {
    const { ctx } = this.#s;
    if (!ctx.integrations) return {};
    this.#tools ??= ctx.integrations.tools().catch((error: Error) => {
      ctx.log("warn", `the integrations could not be listed; continuing without them: ${error.message}`);
      return [];
    });
    const tools = await this.#tools;
    if (tools.length === 0) return {};
    if (!this.#toolsLogged) {
      this.#toolsLogged = true;
      ctx.log("info", `integration tools: ${tools.map((t) => t.name).join(", ")}`);
    }
    return { integrations: { tools, call: ctx.integrations.call } };
  }

  /** The reasoner: the executor model proposes a corrected command after the last failed attempt. */
  async #reason(command: string, failure: string): Promise<string | undefined> {
    const { ctx, meter, prompts } = this.#s;
    const provider = this.#provider ?? (await this.#session()).provider;
    const { z } = await import("zod");
    const answer = await provider.generateObject({
      system: prompts.system || "You fix shell commands.",
      messages: [
        {
          role: "user",
          content: `This command failed in the project's workspace:\n\n${command}\n\nIts output:\n${failure.slice(-3_000)}\n\nPropose one corrected command that achieves the same purpose.`,
        },
      ],
      schema: z.object({ command: z.string().min(1).max(4_000), reason: z.string().max(1_000) }),
      schemaName: "corrected_command",
      signal: ctx.signal,
    });
    meter.addTurn(answer.usage);
    ctx.log("info", `reasoner proposes: ${answer.value.command} (${answer.value.reason})`);
    return answer.value.command;
  }

  #io(): RunOptions {
    const { ctx } = this.#s;
    return { signal: ctx.signal, onOutput: (chunk: string) => ctx.log("debug", chunk) };
  }
}

/**
 * The sandbox as a run sees it: a command the sandbox stopped for a limit it watches ends the run
 * (`workspace_too_large`), wherever it ran — a step, the tests, or one of the agent's tools.
 */
function endingOnLimits(sandbox: Sandbox): Sandbox {
  const check = (result: CommandResult): CommandResult => {
    if (result.limitExceeded) {
      throw new RunFailed({
        code: "workspace_too_large",
        message: `a command was stopped: the workspace grew past its limit (${result.limitExceeded}); ${result.output.slice(-300)}`,
      });
    }
    return result;
  };
  return {
    kind: sandbox.kind,
    user: sandbox.user,
    describe: (spec) => sandbox.describe(spec),
    run: async (command, spec, opts) => check(await sandbox.run(command, spec, opts)),
    runArgv: async (argv, spec, opts) => check(await sandbox.runArgv(argv, spec, opts)),
    prepareProcess: (argv, spec) => sandbox.prepareProcess(argv, spec),
  };
}
