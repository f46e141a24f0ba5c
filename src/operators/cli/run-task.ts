import { userInfo } from "node:os";
import { resolve } from "node:path";
import type { Services } from "../../app/services.ts";
import type { Config } from "../../config.ts";
import type { Draft } from "../../contract/draft.ts";
import type { Run } from "../../contract/run.ts";
import type { Principal } from "../../core/roles.ts";
import { isTerminalRun } from "../../core/run-machine.ts";
import { embeddedExecutorDeps } from "../../embedded/executor-deps.ts";
import { createGimo, type GimoOptions } from "../../gimo.ts";
import { createLogger } from "../../log.ts";
import { createExecutor } from "../../runner/executor.ts";

/**
 * `gimo run-task "…" --repo PATH [--yes]`: the whole pipeline in one process — the planner drafts a
 * plan, you approve it on the terminal (or `--yes` does), the embedded runner executes it, and the
 * branch and link are printed. Exit code 0 only when the run succeeded.
 */
export interface PipelineOutput {
  write(text: string): void;
  ask?(question: string): Promise<boolean>;
  /** Said when no planner or executor model is configured (default: how to configure one). */
  missingModel?: string;
}

/** No planner or executor model: nothing can plan or run. */
export class MissingModel extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MissingModel";
  }
}

export interface PipelineResult {
  draft: Draft;
  run: Run | null;
}

export async function runPipeline(
  config: Config,
  input: { prompt: string; repoPath: string; yes: boolean; testCommand?: string; linkTemplate?: string },
  out: PipelineOutput,
  options: Pick<GimoOptions, "services"> = {},
): Promise<PipelineResult> {
  const logger = createLogger("warn");
  const gimo = await createGimo(
    { ...config, embeddedRunners: Math.max(1, config.embeddedRunners) },
    {
      logger,
      repoPath: resolve(input.repoPath),
      runHandler: (services) => createExecutor(embeddedExecutorDeps(services, (m) => out.write(`! ${m}\n`))),
      ...options,
    },
  );
  const me: Principal = { actor: `cli:${userInfo().username}`, role: "admin", tokenId: null };
  try {
    const s = gimo.services;
    const models = await s.providers.stored();
    if (!models.planner || !models.executor)
      throw new MissingModel(
        out.missingModel ??
          `no ${models.planner ? "executor" : "planner"} model is configured: set GIMO_PROVIDERS_FILE to a JSON file {planner, executor}`,
      );
    let project = await s.projects.ensureFromRepo(me, resolve(input.repoPath));
    if (input.testCommand || input.linkTemplate) {
      project = await s.projects.patch(me, project.id, {
        ...(input.testCommand ? { test_command: input.testCommand } : {}),
        ...(input.linkTemplate ? { link_template: input.linkTemplate } : {}),
      });
    }
    out.write(`Planning "${input.prompt}" for ${project.name} …\n`);
    const outcome = await s.planning.generate(me, { prompt: input.prompt, project: project.id });
    if (outcome.kind === "unavailable") throw outcome.error;
    const draft = await waitForDraft(s, outcome.draft.id);
    if (draft.status !== "draft" || !draft.plan)
      throw new Error(`the planner failed: ${draft.error ?? draft.status}`);
    out.write(describePlan(draft));
    const approved = input.yes || (out.ask ? await out.ask("Approve and run this plan?") : false);
    if (!approved) {
      await s.drafts.reject(me, draft.id, "not approved on the terminal");
      out.write("Not approved; the draft is rejected.\n");
      return { draft, run: null };
    }
    const { approved: snapshot, run } = await s.drafts.approve(me, draft.id, { auto_run: true });
    if (!run) throw new Error("approval did not queue a run");
    out.write(
      `${input.yes ? "Approved without asking (--yes)" : "Approved on the terminal"} as ${me.actor}: ${snapshot.id} (${snapshot.content_hash}).\nRunning ${run.id} …\n`,
    );
    const finished = await follow(s, run.id, out);
    out.write(describeRun(finished));
    return { draft, run: finished };
  } finally {
    await gimo.close();
  }
}

async function waitForDraft(s: Services, id: string): Promise<Draft> {
  for (;;) {
    const draft = await s.drafts.get(id);
    if (draft.status !== "generating") return draft;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Prints the run's log lines as they arrive until it ends. */
async function follow(s: Services, runId: string, out: PipelineOutput): Promise<Run> {
  let after = 0;
  for (;;) {
    const page = await s.reports.logs(runId, after, 500);
    for (const line of page.items) {
      if (line.level !== "debug") out.write(`  ${line.msg}\n`);
      after = line.seq;
    }
    const run = await s.runs.get(runId);
    if (isTerminalRun(run.status) && page.items.length === 0) return run;
    if (page.items.length === 0) await new Promise((r) => setTimeout(r, 150));
  }
}

export function describePlan(draft: Draft): string {
  const plan = draft.plan;
  if (!plan) return "";
  const steps = plan.steps.map((st, i) => `  ${i + 1}. [${st.kind}] ${st.title}`).join("\n");
  const acceptance = plan.acceptance.map((a) => `  - ${a}`).join("\n");
  return `\nPlan (${draft.id}, risk ${plan.risk}): ${plan.title}\n${plan.summary ? `${plan.summary}\n` : ""}Steps:\n${steps}\n${acceptance ? `Acceptance:\n${acceptance}\n` : ""}\n`;
}

export function describeRun(run: Run): string {
  const r = run.result ?? {};
  const tests = r.tests
    ? `tests: ${r.tests.command} → exit ${r.tests.exit_code}${r.tests.passed !== null ? ` (${r.tests.passed} passed, ${r.tests.failed} failed)` : ""}`
    : "";
  if (run.status !== "succeeded") {
    return `\nRun ${run.id} ${run.status}: ${run.error?.code ?? ""} ${run.error?.message ?? ""}\n${tests}\n`;
  }
  return [
    "",
    `Run ${run.id} succeeded.`,
    `branch: ${r.branch} (from ${r.base_branch} @ ${r.base_sha?.slice(0, 12)})`,
    `commit: ${r.head_sha}`,
    `pushed: ${r.pushed ? "yes" : "no"}${r.link ? ` — ${r.link}` : ""}`,
    `changes: ${(r.file_changes ?? []).map((f) => `${f.path} (+${f.insertions} -${f.deletions})`).join(", ")}`,
    tests,
    r.verified === undefined
      ? ""
      : `verified: ${r.verified ? "yes" : `NO — ${(r.verification?.reasons ?? []).join("; ")}`}`,
    "",
  ].join("\n");
}
