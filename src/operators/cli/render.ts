import type { Answer } from "../../client/client.ts";
import { c, statusColour } from "./output.ts";

/** How plans, drafts and runs look on a terminal. */
type Draft = Answer<"Draft">;
type Run = Answer<"Run">;
type Plan = NonNullable<Draft["plan"]>;

export function renderPlan(plan: Plan): string {
  const lines = [c.bold(plan.title)];
  if (plan.summary) lines.push("", plan.summary.trim());
  lines.push("", c.bold("Steps"));
  plan.steps.forEach((step, i) => {
    lines.push(`  ${i + 1}. ${c.dim(`[${step.kind}]`)} ${step.title}`);
    if (step.kind === "command") lines.push(`     ${c.dim("$")} ${step.command}`);
  });
  if (plan.acceptance.length > 0) {
    lines.push("", c.bold("Acceptance"));
    for (const a of plan.acceptance) lines.push(`  ✓ ${a}`);
  }
  const risk =
    plan.risk === "high"
      ? c.red(plan.risk)
      : plan.risk === "medium"
        ? c.yellow(plan.risk)
        : c.green(plan.risk);
  lines.push("", `${c.bold("Risk")} ${risk}`);
  const b = plan.budgets;
  if (b && Object.keys(b).length > 0) {
    const parts = [
      b.max_turns !== undefined ? `${b.max_turns} turns` : "",
      b.max_tokens !== undefined ? `${b.max_tokens.toLocaleString("en")} tokens` : "",
      b.max_wall_seconds !== undefined ? `${b.max_wall_seconds} s` : "",
      b.max_fix_iterations !== undefined ? `${b.max_fix_iterations} fix iterations` : "",
    ].filter(Boolean);
    lines.push(`${c.bold("Budget")} ${parts.join(", ")}`);
  } else lines.push(`${c.bold("Budget")} the project's defaults`);
  return lines.join("\n");
}

export function renderDraft(draft: Draft): string {
  const head = `${c.bold("Draft")} ${draft.id} rev ${draft.rev} — ${statusColour(draft.status)} (task ${draft.task_id})`;
  if (draft.status === "error") return `${head}\n${c.red(draft.error ?? "the planner failed")}`;
  if (!draft.plan) return `${head}\n${c.dim("(no plan yet)")}`;
  return `${head}\n\n${renderPlan(draft.plan)}`;
}

export function nextForDraft(draft: Draft): string {
  if (draft.status === "draft")
    return [
      c.bold("Next"),
      `  gimo approve ${draft.id} --run        approve it and run it`,
      `  gimo revise ${draft.id} "feedback"    ask the planner to change it`,
      `  gimo revise ${draft.id} --edit        edit it yourself`,
      `  gimo reject ${draft.id}               drop it`,
    ].join("\n");
  if (draft.status === "generating")
    return `${c.bold("Next")}\n  gimo show ${draft.id}     see the plan when the planner has finished`;
  if (draft.status === "error")
    return `${c.bold("Next")}\n  gimo revise ${draft.id} "feedback"    try again with more guidance`;
  return "";
}

export function renderRunLine(run: Run): string {
  return `${c.bold("Run")} ${run.id} — ${runStatusText(run)} (attempt ${run.attempt}/${run.max_attempts}, task ${run.task_id})`;
}

export function renderRun(run: Run): string {
  const lines = [renderRunLine(run)];
  for (const step of run.steps) {
    const mark =
      step.status === "succeeded"
        ? c.green("✓")
        : step.status === "failed"
          ? c.red("✗")
          : step.status === "running"
            ? c.cyan("…")
            : c.dim("·");
    lines.push(
      `  ${mark} ${step.title} ${c.dim(`[${step.kind}] ${step.status}`)}${step.detail ? c.dim(` — ${step.detail}`) : ""}`,
    );
  }
  if (run.blocked_by.length > 0)
    lines.push(`  waiting for ${run.blocked_by.map((b) => `${b.run_id} (${b.status})`).join(", ")}`);
  lines.push(renderOutcome(run));
  return lines.filter(Boolean).join("\n");
}

export function renderOutcome(run: Run): string {
  const r = run.result ?? {};
  const lines: string[] = [];
  if (run.error) lines.push(c.red(`${run.error.code}: ${run.error.message}`));
  if (r.branch)
    lines.push(
      `${c.bold("branch")} ${r.branch}${r.base_branch ? c.dim(` (from ${r.base_branch}${r.base_sha ? ` @ ${r.base_sha.slice(0, 12)}` : ""})`) : ""}`,
    );
  if (r.head_sha) lines.push(`${c.bold("commit")} ${r.head_sha}`);
  if (r.pushed !== undefined) lines.push(`${c.bold("pushed")} ${r.pushed ? "yes" : "no"}`);
  if (r.link) lines.push(`${c.bold("link")} ${r.link}`);
  if (r.pull_request) lines.push(`${c.bold("pull request")} ${r.pull_request.url}`);
  if (r.file_changes?.length)
    lines.push(
      `${c.bold("changes")} ${r.file_changes.map((f) => `${f.path} (+${f.insertions} -${f.deletions})`).join(", ")}`,
    );
  if (r.tests)
    lines.push(
      `${c.bold("tests")} ${r.tests.command} → exit ${r.tests.exit_code}${r.tests.passed !== null ? ` (${r.tests.passed} passed, ${r.tests.failed} failed)` : ""}`,
    );
  lines.push(...renderVerification(run));
  return lines.join("\n");
}

/** `verified yes`, or `verified NO — why`, then each acceptance verdict with its evidence. */
function renderVerification(run: Run): string[] {
  const r = run.result ?? {};
  if (r.verified === undefined) return [];
  const why = r.verification?.reasons ?? [];
  const lines = [
    r.verified
      ? `${c.bold("verified")} ${c.green("yes")}`
      : `${c.bold("verified")} ${c.yellow("NO")}${why.length ? ` — ${why.join("; ")}` : ""}`,
  ];
  const verdicts = r.verification?.acceptance ?? [];
  if (verdicts.length > 0) {
    lines.push(c.bold("acceptance"));
    for (const v of verdicts)
      lines.push(`  ${v.met ? c.green("✓") : c.red("✗")} ${v.criterion} ${c.dim(`— ${v.evidence}`)}`);
  }
  return lines;
}

/** A run's status, with `unverified` after a success nothing checked. */
export function runStatusText(run: Run): string {
  return run.status === "succeeded" && run.result?.verified === false
    ? `${statusColour(run.status)} ${c.yellow("(unverified)")}`
    : statusColour(run.status);
}
