import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Answer, GimoClient } from "../../client/client.ts";
import { CliError } from "./exit-codes.ts";
import { limit } from "./limit.ts";
import { ago, c, print, printJson, spinner, statusColour, table } from "./output.ts";
import { nextForDraft, renderDraft, renderPlan, renderRun } from "./render.ts";
import { connect } from "./session.ts";

/** The actions of `gimo task`, `tasks`, `drafts`, `show`, `revise`, `approve`, `reject`. */
interface Globals {
  url?: string;
}
type Draft = Answer<"Draft">;

export async function createTask(
  globals: Globals,
  prompt: string,
  opts: { project?: string; wait?: boolean; json?: boolean },
): Promise<void> {
  const client = await connect(globals);
  let draft = await client.createTask({ prompt, ...(opts.project ? { project: opts.project } : {}) });
  if (!opts.json && !opts.project) {
    const project = await client.getProject(draft.project_id);
    print(c.dim(`project ${project.name} (${project.id}) — the default; --project chooses another`));
  }
  if (opts.wait !== false) draft = await planned(client, draft);
  showDraft(draft, opts.json);
}

/** Waits for the planner with a spinner; fails with the planner's error when it could not plan. */
async function planned(client: GimoClient, first: Draft): Promise<Draft> {
  if (first.status !== "generating") return first;
  const s = await spinner(`The planner is writing a plan (${first.id})…`);
  const draft = await client.waitForDraft(first.id);
  s.stop(draft.status === "error" ? "The planner failed" : `Plan ready: ${draft.id} rev ${draft.rev}`);
  return draft;
}

function showDraft(draft: Draft, json: boolean | undefined): void {
  if (json) printJson(draft);
  else {
    print(renderDraft(draft));
    const next = nextForDraft(draft);
    if (next) print(`\n${next}`);
  }
  if (draft.status === "error")
    throw new CliError("planFailed", `the planner could not plan: ${draft.error ?? "error"}`);
}

export async function listTasks(
  globals: Globals,
  opts: { status?: string; project?: string; limit: string; json?: boolean },
): Promise<void> {
  const page = await (await connect(globals)).listTasks({
    status: opts.status as never,
    project: opts.project,
    limit: limit(opts.limit),
  });
  if (opts.json) return printJson(page);
  const rows = page.items.map((t) => [
    t.id,
    statusColour(t.status),
    oneLine(t.prompt, 60),
    ago(t.updated_at),
  ]);
  print(await table(["task", "status", "prompt", "updated"], rows));
}

export async function listDrafts(
  globals: Globals,
  opts: { status?: string; task?: string; project?: string; limit: string; json?: boolean },
): Promise<void> {
  const page = await (await connect(globals)).listDrafts({
    status: opts.status as never,
    task: opts.task,
    project: opts.project,
    limit: limit(opts.limit),
  });
  if (opts.json) return printJson(page);
  const rows = page.items.map((d) => [
    d.id,
    String(d.rev),
    statusColour(d.status),
    oneLine(d.plan?.title ?? d.prompt, 60),
    ago(d.updated_at),
  ]);
  print(await table(["draft", "rev", "status", "plan", "updated"], rows));
}

export async function show(globals: Globals, id: string, opts: { json?: boolean }): Promise<void> {
  const client = await connect(globals);
  const kind = id.slice(0, id.indexOf("_"));
  if (kind === "d") {
    const draft = await client.getDraft(id);
    if (opts.json) return printJson(draft);
    print(renderDraft(draft));
    const next = nextForDraft(draft);
    if (next) print(`\n${next}`);
  } else if (kind === "t") {
    const task = await client.getTask(id);
    if (opts.json) return printJson(task);
    print(`${c.bold("Task")} ${task.id} — ${statusColour(task.status)}\n${task.prompt}\n`);
    for (const d of task.drafts)
      print(`  draft ${d.id} rev ${d.rev} ${statusColour(d.status)} ${d.plan?.title ?? ""}`);
    for (const a of task.approved) print(`  approved ${a.id} by ${a.approved_by} ${ago(a.approved_at)}`);
    for (const r of task.runs) print(`  run ${r.id} ${statusColour(r.status)} ${ago(r.updated_at)}`);
    if (task.branch) print(`\n${c.bold("branch")} ${task.branch}${task.link ? `  ${task.link}` : ""}`);
  } else if (kind === "a") {
    const approved = await client.getApproved(id);
    if (opts.json) return printJson(approved);
    print(
      `${c.bold("Approved")} ${approved.id} by ${approved.approved_by} ${ago(approved.approved_at)} — ${approved.content_hash}\n`,
    );
    print(renderPlan(approved.plan));
    print(`\n${c.bold("Next")}\n  gimo run ${approved.id}      queue a run of it`);
  } else if (kind === "r") {
    const run = await client.getRun(id);
    if (opts.json) return printJson(run);
    print(renderRun(run));
  } else if (kind === "p") {
    const project = await client.getProject(id);
    if (opts.json) return printJson(project);
    print(
      `${c.bold("Project")} ${project.name} ${project.id}${project.is_default ? c.green(" (default)") : ""}`,
    );
    print(
      `  repository ${project.repo_path ?? project.repo_url}\n  base ${project.base_branch}  tests ${project.test_command ?? "—"}`,
    );
  } else {
    throw new CliError("usage", `not an id gimo shows: ${id} (t_…, d_…, a_…, r_… or p_…)`);
  }
}

export async function revise(
  globals: Globals,
  id: string,
  feedback: string,
  opts: { edit?: boolean; format: string; wait?: boolean; json?: boolean },
): Promise<void> {
  const client = await connect(globals);
  if (opts.edit) {
    if (feedback) throw new CliError("usage", "give feedback or --edit, not both");
    return showDraft(await editInEditor(client, id, opts.format), opts.json);
  }
  if (!feedback) throw new CliError("usage", 'say what to change: gimo revise d_… "feedback", or --edit');
  let draft = await client.reviseDraft(id, { feedback });
  if (opts.wait !== false) draft = await planned(client, draft);
  showDraft(draft, opts.json);
}

/** The plan as YAML or JSON in the user's editor; validated against the contract, then PUT. */
async function editInEditor(client: GimoClient, id: string, format: string): Promise<Draft> {
  if (format !== "yaml" && format !== "json") throw new CliError("usage", "--format must be yaml or json");
  const draft = await client.getDraft(id);
  if (draft.status !== "draft" || !draft.plan)
    throw new CliError(
      "conflict",
      `draft ${id} is ${draft.status}: only a draft awaiting approval can be edited`,
    );
  const YAML = await import("yaml");
  const { PlanContent } = await import("../../contract/plan.ts");
  const dir = mkdtempSync(join(tmpdir(), "gimo-edit-"));
  const file = join(dir, `${id}.plan.${format}`);
  const original =
    format === "yaml" ? YAML.stringify(draft.plan) : `${JSON.stringify(draft.plan, null, 2)}\n`;
  try {
    writeFileSync(file, original, { mode: 0o600 });
    const editor = process.env.VISUAL || process.env.EDITOR || "vi";
    const ran = spawnSync(`${editor} "${file}"`, { shell: true, stdio: "inherit" });
    if (ran.status !== 0)
      throw new CliError("error", `the editor (${editor}) exited with ${ran.status ?? ran.signal}`);
    const text = readFileSync(file, "utf8");
    if (text === original) throw new CliError("usage", "the plan is unchanged: nothing saved");
    let value: unknown;
    try {
      value = format === "yaml" ? YAML.parse(text) : JSON.parse(text);
    } catch (error) {
      throw new CliError("invalid", `the edited plan is not valid ${format}: ${(error as Error).message}`);
    }
    const checked = PlanContent.safeParse(value);
    if (!checked.success) {
      const issues = checked.error.issues
        .map((i) => `  ${i.path.join(".") || "(plan)"}: ${i.message}`)
        .join("\n");
      throw new CliError("invalid", `the edited plan does not fit the contract; nothing saved:\n${issues}`);
    }
    return await client.editDraft(id, { plan: checked.data });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function approve(
  globals: Globals,
  id: string,
  opts: { run?: boolean; follow?: boolean; json?: boolean },
): Promise<void> {
  const client = await connect(globals);
  const result = await client.approveDraft(id, opts.run === undefined ? {} : { auto_run: opts.run });
  if (opts.json && !opts.follow) return printJson(result);
  const { approved, run } = result;
  if (!opts.json) {
    print(
      `${c.green("✓")} approved ${c.bold(approved.id)} by ${approved.approved_by} — ${approved.content_hash}`,
    );
    if (run) print(`${c.green("✓")} run ${c.bold(run.id)} queued`);
  }
  if (run && opts.follow) {
    const { follow } = await import("./follow.ts");
    return follow(client, run.id, { json: opts.json, lines: true });
  }
  if (!opts.json)
    print(
      run
        ? `\n${c.bold("Next")}\n  gimo logs ${run.id} --follow     follow it to its branch\n  gimo cancel ${run.id}            stop it`
        : `\n${c.bold("Next")}\n  gimo run ${approved.id}     queue a run of it`,
    );
}

export async function reject(
  globals: Globals,
  id: string,
  opts: { reason?: string; json?: boolean },
): Promise<void> {
  const draft = await (await connect(globals)).rejectDraft(id, opts.reason ? { reason: opts.reason } : {});
  if (opts.json) return printJson(draft);
  print(`${c.green("✓")} draft ${draft.id} rejected`);
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
