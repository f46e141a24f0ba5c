import type { Kysely } from "kysely";
import type { Task } from "../contract/task.ts";
import { notFound } from "../core/errors.ts";
import type { TaskStatus } from "../core/task-status.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import { toApproved, toDraft, toRun, toTask } from "../store/rows.ts";
import type { Database, TasksTable } from "../store/schema.ts";
import type { Write } from "../store/store.ts";
import type { AppContext } from "./context.ts";
import { assertProjectOpen } from "./projects.ts";

/** Tasks group one request's drafts, approvals and runs; their status is derived (core/task-status). */
export class TaskService {
  readonly #ctx: AppContext;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async list(filter: {
    status?: TaskStatus;
    project?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<Task>> {
    let q = this.#ctx.store.db.selectFrom("tasks").selectAll();
    if (filter.status) q = q.where("status", "=", filter.status);
    if (filter.project) q = q.where("project_id", "=", filter.project);
    return keysetPage(q, { key: "id", order: "desc", limit: filter.limit, cursor: filter.cursor }, toTask);
  }

  async get(id: string) {
    const db = this.#ctx.store.db;
    const task = await loadTaskRow(db, id);
    const [drafts, approved, runs] = await Promise.all([
      db.selectFrom("drafts").selectAll().where("task_id", "=", id).orderBy("rev").execute(),
      db.selectFrom("approved").selectAll().where("task_id", "=", id).orderBy("id").execute(),
      db.selectFrom("runs").selectAll().where("task_id", "=", id).orderBy("id", "desc").execute(),
    ]);
    const runViews = runs.map(toRun);
    const latestResult = runViews.find((r) => r.result)?.result ?? undefined;
    return {
      ...toTask(task),
      drafts: drafts.map(toDraft),
      approved: approved.map(toApproved),
      runs: runViews,
      branch: latestResult?.branch ?? null,
      link: latestResult?.link ?? null,
    };
  }
}

export async function loadTaskRow(db: Kysely<Database>, id: string): Promise<TasksTable> {
  const row = await db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("task", id);
  return row;
}

export async function insertTask(
  w: Write,
  id: string,
  projectId: string,
  prompt: string,
): Promise<TasksTable> {
  await assertProjectOpen(w, projectId);
  const row: TasksTable = {
    id,
    project_id: projectId,
    prompt,
    status: "PLANNING",
    created_by: w.principal.actor,
    created_at: w.now,
    updated_at: w.now,
  };
  await w.tx.insertInto("tasks").values(row).execute();
  w.emit("task.created", id, { project_id: projectId });
  return row;
}
