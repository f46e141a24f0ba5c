import type { z } from "@hono/zod-openapi";
import type { Approved } from "../../contract/approved.ts";
import type { Draft } from "../../contract/draft.ts";
import type { PlanContent } from "../../contract/plan.ts";
import type { PlanDoc } from "../../contract/plan-doc.ts";
import type { ProjectContext } from "../../contract/project-context.ts";
import type { Run } from "../../contract/run.ts";
import type { RunLogPage } from "../../contract/runner.ts";
import type { Task } from "../../contract/task.ts";

/**
 * The short texts MCP answers carry beside their structured content: what a model reads first.
 * Each says what the thing is, its state, and what can be done next — never more than a screen.
 */

export function draftText(d: Draft): string {
  const title = d.plan?.title ?? "(plan being written)";
  return [
    `Draft ${d.id} (rev ${d.rev}) of task ${d.task_id}: "${title}" — status ${d.status}.`,
    "It cannot run yet: a person must approve it (web UI, `gimo approve`, or POST /ops/drafts/{id}/approve).",
    "After approval, pass the approved id (a_…) to create_run.",
  ].join("\n");
}

export function tasksText(items: Task[], nextCursor: string | null): string {
  if (items.length === 0) return "No tasks.";
  const lines = items.map((t) => `- ${t.id} [${t.status}] ${oneLine(t.prompt, 100)}`);
  if (nextCursor) lines.push(`(more: pass cursor ${nextCursor})`);
  return lines.join("\n");
}

export function runText(r: Run): string {
  const lines = [`Run ${r.id} of ${r.approved_id}: ${r.status} (attempt ${r.attempt}/${r.max_attempts}).`];
  for (const s of r.steps) lines.push(`- ${s.id} ${s.title}: ${s.status}`);
  if (r.result?.branch) lines.push(`Branch: ${r.result.branch}${r.result.pushed ? " (pushed)" : ""}`);
  if (r.result?.link) lines.push(`Link: ${r.result.link}`);
  if (r.error) lines.push(`Error ${r.error.code}: ${r.error.message}`);
  if (r.status === "queued" || r.status === "running")
    lines.push("Follow it with get_run_status and get_run_logs.");
  return lines.join("\n");
}

export function logsText(runId: string, page: z.infer<typeof RunLogPage>): string {
  if (page.items.length === 0) return `No log lines for ${runId} yet.`;
  const lines = page.items.map((l) => `${l.seq} ${l.level} ${l.step_id ? `[${l.step_id}] ` : ""}${l.msg}`);
  const last = page.items.at(-1)?.seq;
  lines.push(`(next lines: after=${last})`);
  return lines.join("\n");
}

export function planMarkdown(plan: PlanContent): string {
  const steps = plan.steps.map((s) => {
    const body = s.kind === "command" ? `\`${s.command}\`` : (s.instructions ?? "");
    return `${s.id}. **${s.title}** (${s.kind})${body ? `\n   ${body.replaceAll("\n", "\n   ")}` : ""}`;
  });
  const acceptance = plan.acceptance.map((a) => `- ${a}`);
  return [
    `# ${plan.title}`,
    plan.summary,
    "## Steps",
    ...steps,
    "## Acceptance",
    ...(acceptance.length ? acceptance : ["- (none listed)"]),
    `Risk: ${plan.risk}`,
  ]
    .filter((part) => part !== "")
    .join("\n\n");
}

export function approvedMarkdown(a: Approved): string {
  return [
    `Approved plan ${a.id} (task ${a.task_id}, project ${a.project_id}), approved by ${a.approved_by} at ${a.approved_at}.`,
    `Content hash: ${a.content_hash}`,
    planMarkdown(a.plan),
  ].join("\n\n");
}

export function planDocMarkdown(doc: PlanDoc): string {
  const constraints = doc.constraints.map((c) => `- ${c}`).join("\n");
  return [
    `## Objective\n\n${doc.objective || "(none written)"}`,
    `## Context\n\n${doc.context || "(none written)"}`,
    `## Constraints\n\n${constraints || "(none)"}`,
  ].join("\n\n");
}

export interface ContextParts {
  plan: PlanDoc;
  tasks: Task[];
  runs: Run[];
  repo: ProjectContext;
}

/** `ops://context`: everything a coding agent should read before working on the project. */
export function contextMarkdown(p: ContextParts): string {
  const tasks = p.tasks.map((t) => `- ${t.id} [${t.status}] ${oneLine(t.prompt, 120)}`);
  const runs = p.runs.map(
    (r) =>
      `- ${r.id} ${r.status} (approved ${r.approved_id})${r.result?.branch ? ` branch ${r.result.branch}` : ""}${r.error ? ` — ${r.error.code}: ${oneLine(r.error.message, 120)}` : ""}`,
  );
  const files = p.repo.files.map((f) => `### ${f.path}${f.truncated ? " (truncated)" : ""}\n\n${f.text}`);
  return [
    `# GIMO context for project ${p.plan.project_id}`,
    `Repository: ${p.repo.repository}`,
    "Only approved plans (a_…) can run; drafts (d_…) need a person's approval first.",
    `# Plan document (version ${p.plan.version})`,
    planDocMarkdown(p.plan),
    "# Open tasks",
    tasks.length ? tasks.join("\n") : "(none)",
    "# Recent runs",
    runs.length ? runs.join("\n") : "(none)",
    "# Repository context files",
    p.repo.available
      ? `## File tree\n\n${p.repo.tree}\n\n${files.join("\n\n") || "(no README or context files)"}`
      : "(the repository is not on the GIMO server's disk)",
  ].join("\n\n");
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
