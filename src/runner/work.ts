import type { IntegrationTool } from "../contract/integration.ts";
import type { PlanContent } from "../contract/plan.ts";
import type { ClaimedRun } from "../contract/runner.ts";
import type { BudgetMeter } from "../core/budgets.ts";
import type { SandboxLimits } from "../core/sandbox-limits.ts";
import { StuckDetector } from "../core/stuck-detector.ts";
import { tracer } from "../core/tracing.ts";
import type { ProviderConfig } from "../llm/config.ts";
import type { ChatMessage, LlmProvider, Usage } from "../llm/port.ts";
import type { LoadedPrompts } from "../llm/prompts.ts";
import { AcceptanceReviews, type Verified } from "./acceptance.ts";
import { runAgent } from "./agent/loop.ts";
import type { ToolContext } from "./agent/tools.ts";
import { workspaceFs } from "./agent/workspace-fs.ts";
import { resolveAdapter } from "./agent-cli/registry.ts";
import { agentCliStep } from "./agent-cli/step.ts";
import type { ExecutorDeps } from "./executor-port.ts";
import type { RunContext } from "./handler.ts";
import { acceptanceFixInstruction, fixInstruction, stepInstruction } from "./instructions.ts";
import { proposeCorrection } from "./reasoner.ts";
import { RunFailed } from "./run-failed.ts";
import { endingOnLimits } from "./run-sandbox.ts";
import type { CommandResult, RunOptions, Sandbox, SandboxSpec } from "./sandbox/sandbox.ts";
import { runCommandStep } from "./steps.ts";
import { type TestReport, testReport } from "./test-report.ts";
import type { PreparedWorkspace } from "./workspace/workspace.ts";

/**
 * The steps and the fix loop of one run: the setup command, the plan's steps in order (agent ·
 * command · test), then the checks — the project's tests, and once they pass the acceptance review
 * (acceptance.ts: a model judges each acceptance criterion against the diff and the test output) —
 * handed back to the agent while one fails and fix iterations remain (edit → test → review → fix).
 *
 *   tests ─ red ──────────────▶ fix (one iteration) ─▶ tests …
 *     └ green / none ─▶ review ─ a criterion not met ─▶ fix (one iteration) ─▶ tests …
 *                        └ all met, no criteria, or no model to judge ─▶ done (verified or not)
 *
 * Without a model (no executor configured, or an agent CLI as the executor) nothing is asked of
 * one: the reasoner's advice on a failed command is skipped and the review is skipped, each with a
 * log line; with no executor at all, a run whose tests fail cannot be fixed. A run is `verified`
 * only when its tests ran and passed and every criterion was judged met.
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
  /** The acceptance reviewer's prompts, read at the same moment. */
  reviewPrompts: LoadedPrompts;
}

/** What the steps and checks end with: the last tests and how the work was verified. */
export interface WorkOutcome extends Verified {
  tests: TestReport | null;
}

export class Work {
  readonly #s: WorkSetup;
  readonly #sandbox: Sandbox;
  readonly #stuck = new StuckDetector();
  readonly #messages: ChatMessage[] = [];
  readonly #acceptance: AcceptanceReviews;
  #provider: LlmProvider | undefined;
  #tools: Promise<IntegrationTool[]> | undefined;
  #toolsLogged = false;

  constructor(setup: WorkSetup) {
    this.#s = setup;
    this.#sandbox = endingOnLimits(setup.deps.sandbox);
    this.#acceptance = new AcceptanceReviews({
      ctx: setup.ctx,
      ws: setup.ws,
      meter: setup.meter,
      prompts: setup.reviewPrompts,
      noModel: () => this.#noModel(),
      model: () => this.#model(),
    });
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

  async execute(plan: PlanContent): Promise<WorkOutcome> {
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
        const summary = await tracer().inSpan(
          "gimo.step.agent",
          { attributes: { "gimo.step_id": step.id } },
          () => this.#agent(stepInstruction(plan, step.title, step.instructions)),
        );
        ctx.step({ id: step.id, status: "succeeded", detail: summary });
        lastAgentStep = step.id;
        testedSinceChange = false;
      } else if (step.kind === "command") {
        const outcome = await tracer().inSpan(
          "gimo.step.command",
          { attributes: { "gimo.step_id": step.id } },
          () =>
            runCommandStep(step.command, {
              sandbox: this.#sandbox,
              spec: () => this.#spec(),
              workspace: this.#s.ws.path,
              io: this.#io(),
              protectedBranches: project.protected_branches,
              reasoner: async (_command, failure) => this.#reason(step.command, failure),
              log: ctx.log,
            }),
        );
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
    return this.#checkAndFix(plan, testedSinceChange ? last : undefined, lastAgentStep);
  }

  /**
   * The project's tests, then the acceptance review; while either fails and iterations remain, the
   * agent fixes. The fixes continue the last agent step's work: each iteration reopens that step
   * (another attempt), so a fix loop that ends stuck or failing shows the step failed.
   */
  async #checkAndFix(
    plan: PlanContent,
    fresh: TestReport | null | undefined,
    fixStep?: string,
  ): Promise<WorkOutcome> {
    const { meter, ctx } = this.#s;
    const limit = meter.limits.max_fix_iterations;
    const spent = () => meter.fixIterations >= limit;
    const iterations = `${limit} fix iteration${limit === 1 ? "" : "s"}`;
    let report = fresh !== undefined ? fresh : await this.#test();
    for (;;) {
      let instruction: string;
      if (report && report.exit_code !== 0) {
        if (spent())
          throw new RunFailed(
            { code: "tests_failed", message: `the tests still fail after ${iterations}` },
            { tests: report, ...this.#acceptance.outcome(plan, report) },
          );
        // An agent CLI can fix them; with no executor at all, nothing can.
        if (!(await this.#executorConfig())) {
          throw new RunFailed(
            {
              code: "tests_failed",
              message: "the tests fail and no executor model is configured to fix them",
            },
            { tests: report, ...this.#acceptance.outcome(plan, report) },
          );
        }
        this.#stuck.recordError(report.output_tail);
        ctx.log("info", `tests failed; fix iteration ${meter.fixIterations + 1} of ${limit}`);
        instruction = fixInstruction(report);
      } else {
        const unmet = (await this.#acceptance.review(plan, report)).filter((v) => !v.met);
        if (unmet.length === 0) break;
        const of = `${unmet.length} of ${plan.acceptance.length} acceptance criteria`;
        if (spent()) {
          throw new RunFailed(
            {
              code: "acceptance_not_met",
              message: `${of} not met after ${iterations}: ${unmet.map((v) => v.criterion).join("; ")}`,
            },
            {
              unmet: unmet.map((v) => v.criterion),
              tests: report,
              ...this.#acceptance.outcome(plan, report),
            },
          );
        }
        this.#stuck.recordError(unmet.map((v) => `${v.criterion}: ${v.evidence}`).join("\n"));
        ctx.log("info", `${of} not met; fix iteration ${meter.fixIterations + 1} of ${limit}`);
        instruction = acceptanceFixInstruction(unmet);
      }
      meter.fixIterations += 1;
      if (fixStep)
        ctx.step({ id: fixStep, status: "running", detail: `fix iteration ${meter.fixIterations}` });
      await this.#agent(instruction);
      report = await this.#test();
    }
    if (fixStep && meter.fixIterations > 0) {
      const n = meter.fixIterations;
      ctx.step({
        id: fixStep,
        status: "succeeded",
        detail: `the checks pass after ${n} fix iteration${n === 1 ? "" : "s"}`,
      });
    }
    const outcome = { tests: report, ...this.#acceptance.outcome(plan, report) };
    ctx.log(
      outcome.verified ? "info" : "warn",
      outcome.verified
        ? "verified: the tests pass and every acceptance criterion is met"
        : `not verified: ${outcome.verification.reasons.join("; ")}`,
    );
    return outcome;
  }

  /** The executor configuration (resolved once per claim: executor.ts). */
  #executorConfig(): Promise<ProviderConfig | undefined> {
    return this.#s.deps.executorConfig(this.#s.job);
  }

  /** Why no model can be asked (none configured, or the executor is an agent CLI); undefined when one can. */
  async #noModel(): Promise<string | undefined> {
    const config = await this.#executorConfig();
    if (!config) return "no executor model is configured";
    if (config.type === "agent_cli")
      return `the executor is an agent CLI (${resolveAdapter(config.options).kind}), not a model GIMO can ask`;
    return undefined;
  }

  /** The executor model (created, and named in the log with the prompts' hash, once per run). */
  async #model(): Promise<LlmProvider> {
    if (!this.#provider) {
      this.#provider = await this.#s.deps.provider(this.#s.job);
      this.#s.ctx.log("info", `executor ${this.#provider.label}, prompts ${this.#s.prompts.prompt_hash}`);
    }
    return this.#provider;
  }

  async #test(): Promise<TestReport | null> {
    const command = this.#s.job.project.test_command;
    if (!command) return null;
    this.#s.ctx.log("info", `running the tests: ${command}`);
    const report = await tracer().inSpan("gimo.tests", {}, async (span) => {
      const tested = testReport(command, await this.#command(command));
      if (tested.exit_code !== null) span.setAttributes({ "gimo.exit_code": tested.exit_code });
      return tested;
    });
    this.#s.ctx.log(
      report.exit_code === 0 ? "info" : "warn",
      `tests ${report.exit_code === 0 ? "passed" : "failed"} (exit ${report.exit_code})`,
    );
    return report;
  }

  /** One piece of agent work: GIMO's own agent loop, or a coding-agent CLI when configured so. */
  async #agent(instruction: string): Promise<string> {
    const { ctx, meter, ws } = this.#s;
    const config = await this.#executorConfig();
    if (config?.type !== "agent_cli") return (await runAgent(await this.#session(), instruction)).summary;
    return agentCliStep(config, instruction, {
      ctx,
      meter,
      workspace: ws.path,
      sandbox: this.#sandbox,
      spec: this.#spec(),
    });
  }

  async #session() {
    const { deps, job, ctx, ws, meter, prompts } = this.#s;
    const provider = await this.#model();
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
      provider,
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
    const why = await this.#noModel();
    if (why) {
      ctx.log("info", `the reasoner's retry advice is skipped: ${why}`);
      return undefined;
    }
    const correction = await proposeCorrection({
      provider: await this.#model(),
      system: prompts.system,
      command,
      failure,
      signal: ctx.signal,
    });
    meter.addTurn(correction.usage);
    ctx.log("info", `reasoner proposes: ${correction.command} (${correction.reason})`);
    return correction.command;
  }

  #io(): RunOptions {
    const { ctx } = this.#s;
    return { signal: ctx.signal, onOutput: (chunk: string) => ctx.log("debug", chunk) };
  }
}
