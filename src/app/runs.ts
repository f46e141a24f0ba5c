import type { Kysely } from "kysely";
import type { Approved } from "../contract/approved.ts";
import type { ProjectConfig } from "../contract/project.ts";
import type { Run, RunCreate } from "../contract/run.ts";
import { isoAfter } from "../core/clock.ts";
import { GimoError, notFound } from "../core/errors.ts";
import { kindOfId } from "../core/ids.ts";
import type { Principal } from "../core/roles.ts";
import { runError } from "../core/run-failures.ts";
import { activeRunStatuses, type RunStatus } from "../core/run-machine.ts";
import { tracer } from "../core/tracing.ts";
import { casRun } from "../store/cas.ts";
import { compiledQuery } from "../store/compiled-query.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import { toApproved, toRun } from "../store/rows.ts";
import type { Database, RunsTable } from "../store/schema.ts";
import type { Write } from "../store/store.ts";
import { refreshTaskStatus } from "../store/task-status.ts";
import type { AppContext } from "./context.ts";
import { assertProjectOpen } from "./projects.ts";

/**
 * Runs as queue records: create (only from an approved snapshot), list, get, cancel, requeue.
 * Claiming and executing them is the queue's and the runners' work. State rules: core/run-machine.
 */
export class RunService {
  readonly #ctx: AppContext;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async create(principal: Principal, input: RunCreate): Promise<Run> {
    const kind = kindOfId(input.approved_id);
    if (kind === "draft") {
      throw new GimoError("approval_required", "only approved plans can run", {
        hint: `approve draft ${input.approved_id} first (POST /ops/drafts/${input.approved_id}/approve)`,
      });
    }
    if (kind !== "approved") throw notFound("approved plan", input.approved_id);
    return this.#ctx.store.write(principal, async (w) => {
      // Locked (PostgreSQL; SQLite's write lock covers it): concurrent creates for one plan queue
      // up here, so the second sees the first's run and answers run_active.
      const row = await this.#ctx.store
        .forUpdate(w.tx.selectFrom("approved").selectAll().where("id", "=", input.approved_id))
        .executeTakeFirst();
      if (!row) throw notFound("approved plan", input.approved_id);
      if (!input.allow_parallel) await refuseActive(w, row.id);
      const run = await enqueueRun(w, this.#ctx, {
        approved: toApproved(row),
        dependsOn: input.depends_on ?? [],
        priority: input.priority ?? 0,
      });
      await refreshTaskStatus(w, row.task_id);
      return (await withBlockers(w.tx, [run]))[0] as Run;
    });
  }

  async list(filter: {
    status?: RunStatus;
    task?: string;
    project?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<Run>> {
    let q = this.#ctx.store.db.selectFrom("runs").selectAll();
    if (filter.status) q = q.where("status", "=", filter.status);
    if (filter.task) q = q.where("task_id", "=", filter.task);
    if (filter.project) q = q.where("project_id", "=", filter.project);
    const page = await keysetPage(
      q,
      { key: "id", order: "desc", limit: filter.limit, cursor: filter.cursor },
      toRun,
    );
    return { ...page, items: await withBlockers(this.#ctx.store.db, page.items) };
  }

  async get(id: string): Promise<Run> {
    const [run] = await withBlockers(this.#ctx.store.db, [toRun(await loadRunRow(this.#ctx.store.db, id))]);
    return run as Run;
  }

  /** Queued: cancelled at once. Running: `cancel_requested`, the runner stops within a heartbeat. */
  async cancel(principal: Principal, id: string, reason: string | undefined): Promise<Run> {
    return this.#ctx.store.write(principal, async (w) => {
      const run = await loadRunRow(w.tx, id);
      const status = run.status as RunStatus;
      if (status === "running") {
        const updated = await casRunRow(w, id, "running", { cancel_requested: 1 });
        w.emit("run.cancel_requested", id, { task_id: run.task_id, reason: reason ?? null });
        return toRun(updated);
      }
      const error = JSON.stringify(runError("cancelled", reason ?? `cancelled by ${principal.actor}`));
      const updated = await casRunRow(w, id, status, { status: "cancelled", finished_at: w.now, error });
      w.emit("run.cancelled", id, { task_id: run.task_id, reason: reason ?? null });
      await refreshTaskStatus(w, run.task_id);
      return toRun(updated);
    });
  }

  /** A failed or cancelled run goes back to the queue; it gets a fresh allowance of attempts. */
  async requeue(principal: Principal, id: string, backoffSeconds: number): Promise<Run> {
    return this.#ctx.store.write(principal, async (w) => {
      const run = await loadRunRow(w.tx, id);
      const updated = await casRunRow(w, id, run.status, {
        status: "queued",
        run_after: isoAfter(this.#ctx.clock, backoffSeconds),
        max_attempts: run.attempt + this.#ctx.config.maxAttempts,
        cancel_requested: 0,
        lease_owner: null,
        lease_expires_at: null,
        error: null,
        finished_at: null,
      });
      w.emit("run.requeued", id, { task_id: run.task_id, backoff_seconds: backoffSeconds });
      await refreshTaskStatus(w, run.task_id);
      return toRun(updated);
    });
  }
}

/**
 * Compare-and-swap on a run's status: `from → set.status` must be in the transition table
 * (core/run-machine), and a lost race is an illegal transition, never a silent no-op.
 */
async function casRunRow(w: Write, id: string, from: RunStatus, set: Partial<RunsTable>): Promise<RunsTable> {
  const { status, ...rest } = set;
  const updated = await casRun(w, id, from, status).set(rest).returningAll().executeTakeFirst();
  if (!updated) throw new GimoError("illegal_transition", `run ${id} changed while being updated; reload it`);
  return updated;
}

/** The hottest read (every GET /ops/runs/{id}): compiled once, see store/compiled-query.ts. */
const selectRun = compiledQuery(
  (db, id: string) => db.selectFrom("runs").selectAll().where("id", "=", id),
  ["\0run-id"],
);

export async function loadRunRow(db: Kysely<Database>, id: string): Promise<RunsTable> {
  const [row] = await selectRun(db, id);
  if (!row) throw notFound("run", id);
  return row;
}

/** 409 `run_active` when the approved plan already has a queued or running run. */
async function refuseActive(w: Write, approvedId: string): Promise<void> {
  const active = await w.tx
    .selectFrom("runs")
    .select(["id", "status"])
    .where("approved_id", "=", approvedId)
    .where("status", "in", activeRunStatuses)
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
  if (active) {
    throw new GimoError(
      "run_active",
      `approved plan ${approvedId} already has a ${active.status} run (${active.id}); wait for it, cancel it, or send allow_parallel: true`,
      { run_id: active.id, status: active.status },
    );
  }
}

/**
 * 422 `tests_required` when the project says `require_tests` and has no `test_command`: such a
 * run could only end unverified. Checked wherever a run is queued (POST /ops/runs, approve with
 * auto_run, a chat's confirmation), so no channel can start one.
 */
async function refuseUntested(w: Write, projectId: string): Promise<void> {
  const project = await w.tx
    .selectFrom("projects")
    .select(["name", "config"])
    .where("id", "=", projectId)
    .executeTakeFirst();
  const config = project ? (JSON.parse(project.config) as Partial<ProjectConfig>) : {};
  if (config.require_tests && !config.test_command?.trim()) {
    throw new GimoError(
      "tests_required",
      `project ${project?.name ?? projectId} requires tests (require_tests) but has no test_command; set one (PATCH /ops/projects/${projectId}) before running`,
      { project_id: projectId },
    );
  }
}

/** Inserts a queued run of an approved plan, inside the caller's transaction. */
export async function enqueueRun(
  w: Write,
  ctx: AppContext,
  input: { approved: Approved; dependsOn: readonly string[]; priority: number },
): Promise<Run> {
  await assertProjectOpen(w, input.approved.project_id);
  await refuseUntested(w, input.approved.project_id);
  const dependsOn = [...new Set(input.dependsOn)];
  if (dependsOn.length > 0) {
    const found = await w.tx.selectFrom("runs").select("id").where("id", "in", dependsOn).execute();
    const missing = dependsOn.filter((d) => !found.some((f) => f.id === d));
    if (missing.length > 0)
      throw new GimoError("unprocessable", `depends_on names unknown runs: ${missing.join(", ")}`);
  }
  const row: RunsTable = {
    id: ctx.ids("run"),
    approved_id: input.approved.id,
    task_id: input.approved.task_id,
    project_id: input.approved.project_id,
    status: "queued",
    priority: input.priority,
    attempt: 0,
    max_attempts: ctx.config.maxAttempts,
    run_after: w.now,
    depends_on: JSON.stringify(dependsOn),
    cancel_requested: 0,
    lease_owner: null,
    lease_expires_at: null,
    provider_key: null,
    steps: JSON.stringify(
      input.approved.plan.steps.map((s) => ({
        id: s.id,
        title: s.title,
        kind: s.kind,
        status: "pending",
        attempts: 0,
        started_at: null,
        finished_at: null,
        detail: null,
      })),
    ),
    result: null,
    error: null,
    created_by: w.principal.actor,
    created_at: w.now,
    updated_at: w.now,
    started_at: null,
    finished_at: null,
  };
  const traceparent = enqueueSpan(row.id);
  if (traceparent) row.trace_context = traceparent;
  await w.tx.insertInto("runs").values(row).execute();
  if (dependsOn.length > 0) {
    await w.tx
      .insertInto("run_dependencies")
      .values(dependsOn.map((d) => ({ run_id: row.id, depends_on: d })))
      .execute();
  }
  w.emit("run.queued", row.id, {
    task_id: row.task_id,
    approved_id: row.approved_id,
    content_hash: input.approved.content_hash,
    depends_on: dependsOn,
    priority: row.priority,
  });
  return toRun(row);
}

/**
 * The queueing of a run as a span of the active trace (the request that approved or created it);
 * its context is stored with the run. Nothing when tracing is off.
 */
function enqueueSpan(runId: string): string | undefined {
  if (!tracer().enabled) return undefined;
  const span = tracer().startSpan("gimo.run.enqueue", { attributes: { "gimo.run_id": runId } });
  span.end();
  return span.traceparent();
}

/** Fills `blocked_by` of queued runs: their dependencies that have not succeeded. */
export async function withBlockers(db: Kysely<Database>, runs: Run[]): Promise<Run[]> {
  const deps = [...new Set(runs.filter((r) => r.status === "queued").flatMap((r) => r.depends_on))];
  if (deps.length === 0) return runs;
  const rows = await db.selectFrom("runs").select(["id", "status"]).where("id", "in", deps).execute();
  const status = new Map(rows.map((r) => [r.id, r.status as RunStatus]));
  return runs.map((run) =>
    run.status !== "queued"
      ? run
      : {
          ...run,
          blocked_by: run.depends_on
            .filter((d) => status.get(d) !== "succeeded")
            .map((d) => ({ run_id: d, status: status.get(d) ?? ("queued" as RunStatus) })),
        },
  );
}
