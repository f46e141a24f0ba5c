import type { Kysely } from "kysely";
import type { Approved } from "../contract/approved.ts";
import type { Draft, DraftCreate, DraftEdit } from "../contract/draft.ts";
import type { PlanContent } from "../contract/plan.ts";
import type { PlanDocInput } from "../contract/plan-doc.ts";
import type { Run } from "../contract/run.ts";
import { contentHash } from "../core/content-hash.ts";
import { assertDraftTransition, type DraftStatus, supersedableDraftStatuses } from "../core/draft-machine.ts";
import { GimoError, notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { casDraft } from "../store/cas.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import { toApproved, toDraft } from "../store/rows.ts";
import type { ApprovedTable, Database, DraftsTable } from "../store/schema.ts";
import type { Write } from "../store/store.ts";
import { refreshTaskStatus } from "../store/task-status.ts";
import type { AppContext } from "./context.ts";
import { draftAuthors } from "./draft-authors.ts";
import type { ProjectService } from "./projects.ts";
import { enqueueRun } from "./runs.ts";
import { insertTask, loadTaskRow } from "./tasks.ts";

/**
 * Drafts and the approval gate.
 *
 * Approval is the one door to execution. `approve` runs as a single transaction: it moves the
 * draft `draft → approved` with a compare-and-swap, writes the immutable approved snapshot with its
 * content hash, optionally queues a run, and appends the events — all or nothing. With the plan's
 * `require_distinct_approver`, no author of the draft may approve it (draft-authors.ts). Of many
 * concurrent approvals of one draft exactly one wins; the others see the CAS fail and get 409.
 */
export class DraftService {
  readonly #ctx: AppContext;
  readonly #projects: ProjectService;

  constructor(ctx: AppContext, projects: ProjectService) {
    this.#ctx = ctx;
    this.#projects = projects;
  }

  async create(principal: Principal, input: DraftCreate): Promise<Draft> {
    return this.#ctx.store.write(principal, async (w) => {
      const row = await this.insertRevision(w, input, "draft");
      return toDraft(row);
    });
  }

  /**
   * Inserts a new revision inside the caller's write (a new task when `task_id` is absent),
   * superseding the task's older open drafts.
   */
  async insertRevision(w: Write, input: DraftCreate, status: DraftStatus, promptHash: string | null = null) {
    let taskId = input.task_id;
    let projectId: string;
    let rev = 1;
    if (taskId) {
      const task = await loadTaskRow(w.tx, taskId);
      if (input.project && input.project !== task.project_id) {
        throw new GimoError(
          "validation_failed",
          `task ${taskId} belongs to project ${task.project_id}, not ${input.project}`,
        );
      }
      projectId = task.project_id;
      const last = await w.tx
        .selectFrom("drafts")
        .select("rev")
        .where("task_id", "=", taskId)
        .orderBy("rev", "desc")
        .limit(1)
        .executeTakeFirst();
      rev = (last?.rev ?? 0) + 1;
      const superseded = await w.tx
        .updateTable("drafts")
        .set({ status: "superseded", updated_at: w.now })
        .where("task_id", "=", taskId)
        .where("status", "in", supersedableDraftStatuses)
        .returning("id")
        .execute();
      for (const s of superseded) w.emit("draft.superseded", s.id, { task_id: taskId, by_rev: rev });
    } else {
      projectId = await this.#projects.resolveId(w.tx, input.project);
      taskId = this.#ctx.ids("task");
      await insertTask(w, taskId, projectId, input.prompt);
    }
    const row: DraftsTable = {
      id: this.#ctx.ids("draft"),
      task_id: taskId,
      project_id: projectId,
      rev,
      status,
      prompt: input.prompt,
      plan: input.plan ? JSON.stringify(input.plan) : null,
      error: null,
      prompt_hash: promptHash,
      usage: null,
      created_by: w.principal.actor,
      created_at: w.now,
      updated_at: w.now,
    };
    await w.tx.insertInto("drafts").values(row).execute();
    w.emit("draft.created", row.id, { task_id: taskId, rev, status, has_plan: input.plan !== undefined });
    await refreshTaskStatus(w, taskId);
    return row;
  }

  async list(filter: {
    status?: DraftStatus;
    task?: string;
    project?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<Draft>> {
    let q = this.#ctx.store.db.selectFrom("drafts").selectAll();
    if (filter.status) q = q.where("status", "=", filter.status);
    if (filter.task) q = q.where("task_id", "=", filter.task);
    if (filter.project) q = q.where("project_id", "=", filter.project);
    return keysetPage(q, { key: "id", order: "desc", limit: filter.limit, cursor: filter.cursor }, toDraft);
  }

  async get(id: string): Promise<Draft> {
    return toDraft(await loadDraftRow(this.#ctx.store.db, id));
  }

  async edit(principal: Principal, id: string, edit: DraftEdit): Promise<Draft> {
    return this.#ctx.store.write(principal, async (w) => {
      const set: Partial<DraftsTable> = { updated_at: w.now };
      if (edit.prompt !== undefined) set.prompt = edit.prompt;
      if (edit.plan !== undefined) set.plan = JSON.stringify(edit.plan);
      const updated = await w.tx
        .updateTable("drafts")
        .set(set)
        .where("id", "=", id)
        .where("status", "=", "draft")
        .returningAll()
        .executeTakeFirst();
      if (!updated) {
        const current = await loadDraftRow(w.tx, id);
        throw new GimoError(
          "illegal_transition",
          `draft ${id} is ${current.status}; only a draft in status draft can be edited`,
        );
      }
      w.emit("draft.edited", id, { fields: Object.keys(edit).filter((k) => k !== "updated_at") });
      return toDraft(updated);
    });
  }

  async approve(
    principal: Principal,
    id: string,
    body: { auto_run?: boolean; content_hash?: string },
  ): Promise<{ approved: Approved; run: Run | null }> {
    return this.#ctx.store.write(principal, async (w) => {
      const draft = await loadDraftRow(w.tx, id);
      assertDraftTransition(id, draft.status, "approved");
      if (draft.plan === null) {
        throw new GimoError(
          "unprocessable",
          `draft ${id} has no plan yet; add one with PUT /ops/drafts/${id} before approving`,
        );
      }
      if (body.content_hash !== undefined && contentHash(JSON.parse(draft.plan)) !== body.content_hash) {
        throw new GimoError(
          "conflict",
          `draft ${id} changed since it was reviewed (its plan no longer hashes to ${body.content_hash}): review it again`,
        );
      }
      const planDoc = await loadPlanDoc(w.tx, draft.project_id);
      if (planDoc.require_distinct_approver && (await draftAuthors(w.tx, draft)).has(principal.actor)) {
        throw new GimoError(
          "distinct_approver_required",
          `this project requires a different approver: ${principal.actor} wrote some of draft ${id} ` +
            "(created, edited or asked for it or an earlier revision of its task)",
        );
      }
      const swapped = await casDraft(w, id, "draft", "approved")
        // The content read above, and no other: an edit committed meanwhile (PostgreSQL) makes it fail.
        .where("prompt", "=", draft.prompt)
        .where("plan", "=", draft.plan)
        .executeTakeFirst();
      if (Number(swapped.numUpdatedRows) !== 1) {
        throw new GimoError(
          "illegal_transition",
          `draft ${id} was approved or changed by someone else just now`,
        );
      }
      const plan = JSON.parse(draft.plan) as PlanContent;
      const autoRun = body.auto_run ?? planDoc.default_auto_run;
      const approved: ApprovedTable = {
        id: this.#ctx.ids("approved"),
        draft_id: id,
        task_id: draft.task_id,
        project_id: draft.project_id,
        prompt: draft.prompt,
        plan: draft.plan,
        content_hash: contentHash(plan),
        approved_by: principal.actor,
        approved_at: w.now,
        auto_run: autoRun ? 1 : 0,
      };
      await w.tx.insertInto("approved").values(approved).execute();
      w.emit("draft.approved", id, {
        approved_id: approved.id,
        task_id: draft.task_id,
        content_hash: approved.content_hash,
        auto_run: autoRun,
      });
      const run = autoRun
        ? await enqueueRun(w, this.#ctx, { approved: toApproved(approved), dependsOn: [], priority: 0 })
        : null;
      await refreshTaskStatus(w, draft.task_id);
      return { approved: toApproved(approved), run };
    });
  }

  async reject(principal: Principal, id: string, reason: string | undefined): Promise<Draft> {
    return this.#ctx.store.write(principal, async (w) => {
      const draft = await loadDraftRow(w.tx, id);
      const updated = await casDraft(w, id, draft.status, "rejected")
        .set({ error: null })
        .returningAll()
        .executeTakeFirst();
      if (!updated)
        throw new GimoError("illegal_transition", `draft ${id} changed while being rejected; reload it`);
      w.emit("draft.rejected", id, { task_id: draft.task_id, reason: reason ?? null });
      await refreshTaskStatus(w, draft.task_id);
      return toDraft(updated);
    });
  }
}

export async function loadDraftRow(db: Kysely<Database>, id: string): Promise<DraftsTable> {
  const row = await db.selectFrom("drafts").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("draft", id);
  return row;
}

async function loadPlanDoc(db: Kysely<Database>, projectId: string): Promise<PlanDocInput> {
  const row = await db
    .selectFrom("plans")
    .select("doc")
    .where("project_id", "=", projectId)
    .executeTakeFirstOrThrow();
  return JSON.parse(row.doc) as PlanDocInput;
}
