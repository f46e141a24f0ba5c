import type { PlanContent } from "../contract/plan.ts";
import { BudgetExceeded, BudgetMeter, effectiveBudgets } from "../core/budgets.ts";
import { contentHash } from "../core/content-hash.ts";
import { isGimoError } from "../core/errors.ts";
import { runFailure } from "../core/run-failures.ts";
import { effectiveLimits } from "../core/sandbox-limits.ts";
import { Stuck } from "../core/stuck-detector.ts";
import { tracer } from "../core/tracing.ts";
import { isProviderError } from "../llm/errors.ts";
import type { Usage } from "../llm/port.ts";
import { loadPrompts } from "../llm/prompts.ts";
import { deliver } from "./deliver.ts";
import type { ExecutorDeps } from "./executor-port.ts";
import { ForgeError } from "./forge/http.ts";
import type { HandlerOutcome, RunContext, RunHandler } from "./handler.ts";
import { type Failure, RunFailed } from "./run-failed.ts";
import { Work } from "./work.ts";
import {
  type PreparedWorkspace,
  prepareWorkspace,
  removeWorkspace,
  sweepStaleWorkspaces,
} from "./workspace/workspace.ts";

/**
 * The executor: the run handler that turns an approved plan into a pushed, tested task branch.
 *
 *   approval hash recomputed (drift → fail) ─▶ limits resolved (a plan above the project's
 *   maximum → fail) ─▶ worktree on task/<task id>, handed over to the sandbox, prompts read
 *   ─▶ setup command ─▶ the plan's steps ─▶ the tests, the acceptance review and the fix loop
 *   (work.ts, verify.ts) ─▶ green: commit (conventional message + Gimo-Run / Gimo-Approved trailers), push the task
 *   branch (never a protected one), link, optional draft pull request ─▶ result.
 *
 * The wall budget is a deadline on the whole run: when it passes, the run's signal aborts with a
 * `BudgetExceeded` — the command running then is killed, a model call is abandoned — and the run
 * fails `budget_exceeded`, within moments of the deadline, whatever was running.
 *
 * Failures of the work (red tests, a refused command or commit, budgets, a stuck agent, drift) fail
 * the run with a machine-readable code; failures of the infrastructure (the model unreachable or
 * rate limited) are retryable, so the queue runs the attempt again later. The worktree is always
 * removed; the branch stays.
 */

const MIB = 1024 * 1024;

export function createExecutor(runnerDeps: ExecutorDeps): RunHandler {
  // Once per runner: worktrees left by runs whose process died are removed (their branches stay).
  let swept: Promise<unknown> | undefined;
  const handler: RunHandler = async (job, runCtx) => {
    const deps = resolvedOnce(runnerDeps);
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
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(
          new BudgetExceeded(
            "max_wall_seconds",
            `the run took longer than its wall budget of ${meter.limits.max_wall_seconds} s (max_wall_seconds)`,
          ),
        ),
      meter.secondsLeft * 1000,
    );
    const ctx: RunContext = { ...runCtx, signal: AbortSignal.any([runCtx.signal, deadline.signal]) };
    let ws: PreparedWorkspace | undefined;
    let usage: Usage = { input_tokens: 0, output_tokens: 0 };
    try {
      const sandbox = job.project.sandbox;
      const limits = effectiveLimits({
        project: sandbox.limits,
        projectMax: sandbox.max_limits,
        plan: plan.limits,
      });
      ctx.log("info", `preparing a worktree of ${job.project.name} for ${job.run.id}`);
      const token = await deps.forgeToken(job);
      ws = await tracer().inSpan("gimo.workspace.prepare", {}, () =>
        prepareWorkspace(
          {
            runId: job.run.id,
            taskId: job.run.task_id,
            project: job.project,
            attempt: job.run.attempt,
            ...(token ? { token } : {}),
          },
          {
            root: deps.workspaceRoot,
            sandbox: { user: deps.sandbox.user },
          },
        ),
      );
      ctx.log(
        "info",
        `worktree on ${ws.branch} from ${ws.baseBranch} @ ${ws.baseSha.slice(0, 12)}${ws.reusedBranch ? " (branch reused)" : ""}`,
      );
      // Read now, before any command could plant a symlink among the repository's prompt overrides.
      const prompts = await loadPrompts("executor", { repoPath: ws.path });
      const reviewPrompts = await loadPrompts("verify", { repoPath: ws.path });
      const work = new Work({ deps, job, ctx, ws, meter, limits, prompts, reviewPrompts });
      const checked = await work.execute(plan);
      usage = work.usage;
      ctx.signal.throwIfAborted();
      const result = await deliver(deps, job, ctx, ws, plan, checked, usage, limits.max_commit_mb * MIB);
      return { status: "succeeded", result };
    } catch (error) {
      return failed(toFailure(error, ctx), {
        usage: { input_tokens: meter.inputTokens, output_tokens: meter.outputTokens },
      });
    } finally {
      clearTimeout(timer);
      if (ws)
        await removeWorkspace(ws).catch((e) =>
          runCtx.log("warn", `could not remove the worktree: ${String(e)}`),
        );
    }
  };
  // Agent steps need the executor model: plans with them wait while a project has none.
  handler.usesExecutor = true;
  return handler;
}

/**
 * The deps of one claim: its forge token, executor configuration and executor model are resolved
 * once, on first use, and shared by the workspace, the work and the delivery.
 */
function resolvedOnce(deps: ExecutorDeps): ExecutorDeps {
  let provider: ReturnType<ExecutorDeps["provider"]> | undefined;
  let executorConfig: ReturnType<ExecutorDeps["executorConfig"]> | undefined;
  let forgeToken: ReturnType<ExecutorDeps["forgeToken"]> | undefined;
  return {
    ...deps,
    provider: (job) => (provider ??= deps.provider(job)),
    executorConfig: (job) => (executorConfig ??= deps.executorConfig(job)),
    forgeToken: (job) => (forgeToken ??= deps.forgeToken(job)),
  };
}

function toFailure(error: unknown, ctx: RunContext): Failure & { result?: Record<string, unknown> } {
  // A deadline that passed is the cause, whatever the command it cut short answered.
  const reason: unknown = ctx.signal.aborted ? ctx.signal.reason : undefined;
  if (reason instanceof BudgetExceeded) error = reason;
  if (error instanceof RunFailed) return { ...error.failure, details: error.result };
  if (error instanceof BudgetExceeded)
    return { code: "budget_exceeded", message: error.message, details: { budget: error.budget } };
  if (error instanceof Stuck) return { code: "stuck", message: error.message };
  if (isProviderError(error)) {
    const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
    return {
      ...runFailure(
        error.code === "rate_limited" ? "provider_rate_limited" : "provider_unavailable",
        error.message,
      ),
      ...(retryAfter !== undefined ? { retry_after_seconds: retryAfter } : {}),
    };
  }
  if (error instanceof ForgeError) {
    return runFailure(error.failure, error.message);
  }
  if (ctx.signal.aborted) return { code: "aborted", message: String(ctx.signal.reason) };
  if (isGimoError(error) && error.code === "forbidden")
    return { code: "policy_refused", message: error.message, ...detailsOf(error) };
  if (isGimoError(error) && error.code === "payload_too_large")
    return { code: "commit_too_large", message: error.message, ...detailsOf(error) };
  return { code: "executor_error", message: error instanceof Error ? error.message : String(error) };
}

function detailsOf(error: { details: unknown }): { details?: Record<string, unknown> } {
  return error.details && typeof error.details === "object"
    ? { details: error.details as Record<string, unknown> }
    : {};
}

function failed(
  failure: Failure & { details?: unknown },
  result: Record<string, unknown> = {},
): HandlerOutcome {
  const details = failure.details as Record<string, unknown> | undefined;
  // What the work showed before it failed (the last tests, the acceptance verdicts) stays visible.
  const shown = Object.fromEntries(
    ["tests", "verified", "verification"]
      .filter((k) => details?.[k] !== undefined)
      .map((k) => [k, details?.[k]]),
  );
  return { status: "failed", error: failure, result: { ...result, ...shown } };
}
