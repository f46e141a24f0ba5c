import type { Approved } from "../contract/approved.ts";
import type { Draft } from "../contract/draft.ts";
import type { Event } from "../contract/event.ts";
import type { PlanContent } from "../contract/plan.ts";
import type { PlanDoc, PlanDocInput } from "../contract/plan-doc.ts";
import type { Project, ProjectConfig } from "../contract/project.ts";
import type { Run } from "../contract/run.ts";
import type { Task } from "../contract/task.ts";
import type { DraftStatus } from "../core/draft-machine.ts";
import type { RunStatus } from "../core/run-machine.ts";
import type { TaskStatus } from "../core/task-status.ts";
import { publicProviderConfig } from "../llm/config.ts";
import type {
  ApprovedTable,
  DraftsTable,
  EventsTable,
  PlansTable,
  ProjectsTable,
  RunsTable,
  TasksTable,
} from "./schema.ts";

/** Row → contract shape, one function per table. Secrets are masked here, on the way out. */

const parse = <T>(text: string): T => JSON.parse(text) as T;

export function toTask(row: TasksTable): Task {
  return { ...row, status: row.status as TaskStatus };
}

export function toDraft(row: DraftsTable): Draft {
  return {
    ...row,
    status: row.status as DraftStatus,
    plan: row.plan === null ? null : parse<PlanContent>(row.plan),
    usage: row.usage === null ? null : parse(row.usage),
  };
}

export function toApproved(row: ApprovedTable): Approved {
  return { ...row, plan: parse<PlanContent>(row.plan), auto_run: row.auto_run === 1 };
}

export function toRun(row: RunsTable): Run {
  return {
    id: row.id,
    approved_id: row.approved_id,
    task_id: row.task_id,
    project_id: row.project_id,
    status: row.status as RunStatus,
    priority: row.priority,
    attempt: row.attempt,
    max_attempts: row.max_attempts,
    run_after: row.run_after,
    depends_on: parse<string[]>(row.depends_on),
    blocked_by: [],
    cancel_requested: row.cancel_requested === 1,
    runner_id: row.lease_owner,
    lease_expires_at: row.lease_expires_at,
    steps: parse(row.steps),
    result: row.result === null ? null : parse(row.result),
    error: row.error === null ? null : parse(row.error),
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
  };
}

export function toEvent(row: EventsTable): Event {
  return { ...row, data: parse(row.data) };
}

export function toPlanDoc(row: PlansTable): PlanDoc {
  const doc = parse<PlanDocInput>(row.doc);
  return {
    project_id: row.project_id,
    ...doc,
    version: row.version,
    updated_at: row.updated_at,
    updated_by: row.updated_by,
  };
}

/** `${VAR}` references are safe to show; anything else is a literal secret and is hidden. */
export function isSecretReference(value: string): boolean {
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value);
}

function maskSecret(value: string | undefined): { shown: string | null; set: boolean } {
  if (value === undefined || value === "") return { shown: null, set: false };
  return { shown: isSecretReference(value) ? value : null, set: true };
}

/** A project's model override as clients see it: its URL and header values masked as for /ops/provider. */
function providerView(p: ProjectConfig["planner"]) {
  if (!p) return null;
  const key = maskSecret(p.api_key);
  const shown = publicProviderConfig(p);
  return {
    type: p.type,
    base_url: shown.base_url ?? null,
    model: p.model,
    api_key: key.shown,
    api_key_set: key.set,
    options: shown.options ?? {},
  };
}

export function toProject(row: ProjectsTable): Project {
  const c = parse<ProjectConfig>(row.config);
  const token = maskSecret(c.forge?.token);
  return {
    id: row.id,
    name: row.name,
    repo_path: row.repo_path,
    repo_url: row.repo_url,
    remote: c.remote,
    base_branch: c.base_branch,
    protected_branches: c.protected_branches,
    branch_prefix: c.branch_prefix,
    test_command: c.test_command ?? null,
    require_tests: c.require_tests ?? false,
    setup_command: c.setup_command ?? null,
    link_template: c.link_template ?? null,
    push: c.push,
    pull_request: c.pull_request,
    forge: c.forge
      ? { kind: c.forge.kind, api_url: c.forge.api_url ?? null, token: token.shown, token_set: token.set }
      : null,
    sandbox: c.sandbox,
    planner: providerView(c.planner),
    executor: providerView(c.executor),
    max_concurrent_runs: c.max_concurrent_runs,
    budgets: c.budgets,
    is_default: row.is_default === 1,
    archived_at: row.archived_at ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
