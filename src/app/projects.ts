import type { Kysely } from "kysely";
import type { PlanDocInput } from "../contract/plan-doc.ts";
import { type Project, type ProjectConfig, ProjectCreate, type ProjectPatch } from "../contract/project.ts";
import { GimoError, notFound } from "../core/errors.ts";
import { renderLink } from "../core/git-policy.ts";
import type { Principal } from "../core/roles.ts";
import { isHttpUrl } from "../core/run-result.ts";
import { inspectRepository } from "../git/inspect.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import { toProject } from "../store/rows.ts";
import type { Database, ProjectsTable } from "../store/schema.ts";
import type { Write } from "../store/store.ts";
import type { AppContext } from "./context.ts";
import { type Seal, sealProject } from "./sealing.ts";

/** Projects: the repositories GIMO works on. The first one registered is the default. */
export const DEFAULT_PLAN_DOC: PlanDocInput = {
  objective: "",
  context: "",
  constraints: [],
  default_auto_run: false,
  require_distinct_approver: false,
};

export class ProjectService {
  readonly #ctx: AppContext;
  readonly #seal: Seal;

  /** `seal` seals the literal secrets of a project's configuration before it is stored (sealing.ts). */
  constructor(ctx: AppContext, seal: Seal) {
    this.#ctx = ctx;
    this.#seal = seal;
  }

  async create(principal: Principal, input: ProjectCreate): Promise<Project> {
    const baseBranch =
      input.base_branch ?? (input.repo_path ? (await inspectRepository(input.repo_path)).headBranch : "main");
    const { repo_path, repo_url, ...settings } = input;
    assertLinkTemplate(settings.link_template);
    const config = await sealProject({ ...settings, base_branch: baseBranch }, this.#seal);
    return this.#ctx.store.write(principal, async (w) => {
      const row = await insertProject(
        w,
        this.#ctx.ids("project"),
        input.name,
        repo_path ?? null,
        repo_url ?? null,
        config,
      );
      return toProject(row);
    });
  }

  /** `gimo serve --repo PATH`: registers PATH as the default project unless it already is one. */
  async ensureFromRepo(principal: Principal, repoPath: string): Promise<Project> {
    const existing = await this.#ctx.store.db
      .selectFrom("projects")
      .selectAll()
      .where("repo_path", "=", repoPath)
      .executeTakeFirst();
    if (existing) return toProject(existing);
    const name = repoPath.split("/").filter(Boolean).pop() ?? "project";
    const taken = await this.#ctx.store.db
      .selectFrom("projects")
      .select("id")
      .where("name", "=", name)
      .executeTakeFirst();
    return this.create(
      principal,
      ProjectCreate.parse({ name: taken ? `${name}-${Date.now()}` : name, repo_path: repoPath }),
    );
  }

  async list(limit: number, cursor?: string): Promise<Page<Project>> {
    return keysetPage(
      this.#ctx.store.db.selectFrom("projects").selectAll(),
      { key: "id", order: "asc", limit: limit, cursor: cursor },
      toProject,
    );
  }

  async get(id: string): Promise<Project> {
    return toProject(await loadProjectRow(this.#ctx.store.db, id));
  }

  async patch(principal: Principal, id: string, patch: ProjectPatch): Promise<Project> {
    return this.#ctx.store.write(principal, async (w) => {
      // Read-modify-write of the config: one change to a project at a time.
      await w.lockProject(id, "exclusive");
      const row = await loadProjectRow(w.tx, id);
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      assertLinkTemplate(patch.link_template);
      const config = await sealProject(
        { ...(JSON.parse(row.config) as ProjectConfig), ...defined },
        this.#seal,
      );
      const name = patch.name ?? row.name;
      await assertNameFree(w, name, id);
      await w.tx
        .updateTable("projects")
        .set({
          name,
          config: JSON.stringify(config),
          max_concurrent_runs: config.max_concurrent_runs,
          updated_at: w.now,
        })
        .where("id", "=", id)
        .execute();
      w.emit("project.updated", id, { fields: Object.keys(defined) });
      return toProject({
        ...row,
        name,
        config: JSON.stringify(config),
        max_concurrent_runs: config.max_concurrent_runs,
        updated_at: w.now,
      });
    });
  }

  /**
   * Archiving closes a project: no new tasks, chats or runs (409 `project_archived`); what is
   * queued or running finishes, and everything stays readable. Unarchiving reopens it.
   */
  async setArchived(principal: Principal, id: string, archived: boolean): Promise<Project> {
    return this.#ctx.store.write(principal, async (w) => {
      // Waits for new work that saw the project open; new work that comes meanwhile waits for this.
      await w.lockProject(id, "exclusive");
      const row = await loadProjectRow(w.tx, id);
      if ((row.archived_at !== null) === archived)
        throw new GimoError(
          "illegal_transition",
          `project ${id} is ${archived ? "already" : "not"} archived`,
        );
      const archived_at = archived ? w.now : null;
      await w.tx
        .updateTable("projects")
        .set({ archived_at, updated_at: w.now })
        .where("id", "=", id)
        .execute();
      w.emit(archived ? "project.archived" : "project.unarchived", id, { name: row.name });
      return toProject({ ...row, archived_at, updated_at: w.now });
    });
  }

  /**
   * Deletes a project that nothing references: no tasks (so no drafts, plans approved or runs)
   * and no chats. Its living plan document goes with it; its events stay in the audit log. The
   * default project is never deleted (another would have to become the default first).
   */
  async delete(principal: Principal, id: string): Promise<void> {
    await this.#ctx.store.write(principal, async (w) => {
      const row = await loadProjectRow(w.tx, id);
      if (row.is_default === 1)
        throw new GimoError("in_use", `project ${id} is the default project: it cannot be deleted`);
      const [task, chat] = await Promise.all([
        w.tx.selectFrom("tasks").select("id").where("project_id", "=", id).limit(1).executeTakeFirst(),
        w.tx.selectFrom("chats").select("id").where("project_id", "=", id).limit(1).executeTakeFirst(),
      ]);
      if (task || chat)
        throw new GimoError(
          "in_use",
          `project ${id} still has ${task ? "tasks" : "chats"}: archive it instead (its history stays readable)`,
        );
      await w.tx.deleteFrom("plans").where("project_id", "=", id).execute();
      await w.tx.deleteFrom("projects").where("id", "=", id).execute();
      w.emit("project.deleted", id, { name: row.name });
    });
  }

  /** The project a request means: the one it names, else the default one. */
  async resolveId(db: Kysely<Database>, projectId: string | undefined): Promise<string> {
    if (projectId) return (await loadProjectRow(db, projectId)).id;
    const row = await db.selectFrom("projects").select("id").where("is_default", "=", 1).executeTakeFirst();
    if (!row) {
      throw new GimoError(
        "unprocessable",
        "no project given and no default project: create one with POST /ops/projects or start with `gimo serve --repo PATH`",
      );
    }
    return row.id;
  }
}

/**
 * A run's `link` must be an http(s) URL (core/run-result), and it is rendered from the project's
 * `link_template`: a template that cannot render to one is refused here, where it is written,
 * rather than at the end of every run.
 */
function assertLinkTemplate(template: string | undefined): void {
  if (template === undefined) return;
  const sample = {
    branch: "task/t_x",
    task_id: "t_x",
    run_id: "r_x",
    sha: "0".repeat(40),
    base_branch: "main",
  };
  if (!isHttpUrl(renderLink(template, sample))) {
    throw new GimoError("validation_failed", "link_template must render to an http(s) URL", {
      field: "link_template",
    });
  }
}

async function assertNameFree(w: Write, name: string, exceptId?: string): Promise<void> {
  let q = w.tx.selectFrom("projects").select("id").where("name", "=", name);
  if (exceptId) q = q.where("id", "!=", exceptId);
  if (await q.executeTakeFirst()) throw new GimoError("conflict", `a project named ${name} already exists`);
}

async function insertProject(
  w: Write,
  id: string,
  name: string,
  repoPath: string | null,
  repoUrl: string | null,
  config: ProjectConfig,
): Promise<ProjectsTable> {
  await assertNameFree(w, name);
  const hasDefault = await w.tx
    .selectFrom("projects")
    .select("id")
    .where("is_default", "=", 1)
    .executeTakeFirst();
  const row: ProjectsTable = {
    id,
    name,
    repo_path: repoPath,
    repo_url: repoUrl,
    config: JSON.stringify(config),
    max_concurrent_runs: config.max_concurrent_runs,
    is_default: hasDefault ? 0 : 1,
    archived_at: null,
    created_at: w.now,
    updated_at: w.now,
  };
  await w.tx.insertInto("projects").values(row).execute();
  await w.tx
    .insertInto("plans")
    .values({
      project_id: id,
      doc: JSON.stringify(DEFAULT_PLAN_DOC),
      version: 1,
      updated_at: w.now,
      updated_by: w.principal.actor,
    })
    .execute();
  w.emit("project.created", id, {
    name,
    repo_path: repoPath,
    repo_url: repoUrl,
    is_default: row.is_default === 1,
  });
  return row;
}

/**
 * Refuses new work (a task, a chat, a run) in an archived project. It holds the project's gate
 * shared until the transaction ends (store/advisory-locks.ts) and reads the project after it: an
 * archive committing at the same moment is either seen here or waits for this transaction, so no
 * task slips in after the archive; new work in one project does not wait on other new work, nor
 * on claims.
 */
export async function assertProjectOpen(w: Write, projectId: string): Promise<void> {
  await w.lockProject(projectId, "shared");
  const row = await w.tx
    .selectFrom("projects")
    .select("archived_at")
    .where("id", "=", projectId)
    .executeTakeFirst();
  if (!row) throw notFound("project", projectId);
  if (row.archived_at !== null) {
    throw new GimoError("project_archived", `project ${projectId} is archived: unarchive it to add work`);
  }
}

export async function loadProjectRow(db: Kysely<Database>, id: string): Promise<ProjectsTable> {
  const row = await db.selectFrom("projects").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("project", id);
  return row;
}
