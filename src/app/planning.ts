import { z } from "@hono/zod-openapi";
import { Text } from "../contract/common.ts";
import type { Draft } from "../contract/draft.ts";
import { PlanContent } from "../contract/plan.ts";
import type { PlanDocInput } from "../contract/plan-doc.ts";
import type { ProjectConfig } from "../contract/project.ts";
import { revisableDraftStatuses } from "../core/draft-machine.ts";
import { GimoError, isGimoError } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { repositoryContext } from "../git/context.ts";
import { draftPlan, type PlannerRequest, type RunSummary } from "../llm/planner.ts";
import { loadPrompts } from "../llm/prompts.ts";
import { casDraft } from "../store/cas.ts";
import { toDraft } from "../store/rows.ts";
import { refreshTaskStatus } from "../store/task-status.ts";
import type { AppContext } from "./context.ts";
import { type DraftService, loadDraftRow } from "./drafts.ts";
import type { ProjectService } from "./projects.ts";
import type { ProviderService } from "./providers.ts";

/**
 * The planner at work: generate a first draft, revise one with feedback, propose new ones.
 *
 * Generation is a job. The draft is created at once in `generating` (so the request is never lost),
 * the model is called in the background, and the draft becomes `draft` (with its plan, the hash of
 * the prompt set and the tokens used) or `error` (with a readable message) — a compare-and-swap
 * from `generating`, so a draft superseded meanwhile is left alone. The caller waits up to
 * `GIMO_GENERATE_WAIT_S` for the job; after that it gets the `generating` draft and follows the
 * `draft.generated` / `draft.failed` event.
 */
export type GenerateOutcome =
  | { kind: "done"; draft: Draft }
  | { kind: "pending"; draft: Draft }
  | { kind: "unavailable"; draft: Draft; error: GimoError };

/** Errors that mean "the model could not be reached", answered 503 by /ops/generate. */
const UNREACHABLE = new Set(["unavailable", "rate_limited"]);
const RECENT_RUNS = 5;

export class PlanningService {
  readonly #ctx: AppContext;
  readonly #projects: ProjectService;
  readonly #drafts: DraftService;
  readonly #providers: ProviderService;
  readonly #inflight = new Map<string, AbortController>();

  constructor(ctx: AppContext, projects: ProjectService, drafts: DraftService, providers: ProviderService) {
    this.#ctx = ctx;
    this.#projects = projects;
    this.#drafts = drafts;
    this.#providers = providers;
  }

  async generate(principal: Principal, input: { prompt: string; project?: string; context?: string }) {
    await this.#assertPlanner(input.project);
    const draft = await this.#ctx.store.write(principal, async (w) =>
      toDraft(
        await this.#drafts.insertRevision(w, { prompt: input.prompt, project: input.project }, "generating"),
      ),
    );
    const request: PlannerRequest = { prompt: input.prompt };
    if (input.context) request.instructions = `Additional context from the requester:\n${input.context}`;
    return this.#wait(draft, this.#start(principal, draft, request));
  }

  async revise(principal: Principal, draftId: string, feedback: string): Promise<GenerateOutcome> {
    await this.#assertPlanner((await loadDraftRow(this.#ctx.store.db, draftId)).project_id);
    const next = await this.#ctx.store.write(principal, async (w) => {
      const old = await loadDraftRow(w.tx, draftId);
      if (!revisableDraftStatuses.includes(old.status)) {
        throw new GimoError(
          "illegal_transition",
          `draft ${draftId} is ${old.status}; only a draft or a failed one can be revised`,
        );
      }
      const row = await this.#drafts.insertRevision(
        w,
        { prompt: old.prompt, task_id: old.task_id },
        "generating",
      );
      return { draft: toDraft(row), previous: old.plan === null ? null : JSON.parse(old.plan) };
    });
    const request: PlannerRequest = {
      prompt: next.draft.prompt,
      revision: { previous_plan: next.previous, feedback },
    };
    return this.#wait(next.draft, this.#start(principal, next.draft, request));
  }

  /**
   * The autonomous backlog: the planner reads the project's plan, context and recent runs and
   * proposes up to `count` new tasks, each a draft awaiting approval. Waits for the model.
   */
  async propose(principal: Principal, input: { count: number; project?: string }): Promise<Draft[]> {
    const projectId = await this.#projects.resolveId(this.#ctx.store.db, input.project);
    await this.#assertPlanner(projectId);
    const Proposals = z
      .object({
        proposals: z
          .array(z.object({ prompt: Text(4_000).min(1), plan: PlanContent }).strict())
          .min(1)
          .max(input.count),
      })
      .strict();
    const setting = await this.#setting(projectId, undefined);
    const result = await draftPlan({
      ...setting,
      request: {
        prompt: `Propose up to ${input.count} new, independent tasks that move the project towards its objective.`,
        instructions:
          `Answer with {"proposals": [{"prompt": "<the task, as a person would ask for it>", "plan": <a plan>}]}: ` +
          `at most ${input.count}, most valuable first, none repeating work already done or under way.`,
      },
      schema: Proposals,
      schemaName: "proposals",
    });
    return this.#ctx.store.write(principal, async (w) => {
      const drafts: Draft[] = [];
      for (const p of result.plan.proposals) {
        const row = await this.#drafts.insertRevision(
          w,
          { prompt: p.prompt, project: projectId, plan: p.plan },
          "draft",
          result.prompt_hash,
        );
        await w.tx
          .updateTable("drafts")
          .set({ usage: JSON.stringify(result.usage) })
          .where("id", "=", row.id)
          .execute();
        drafts.push(toDraft({ ...row, usage: JSON.stringify(result.usage) }));
      }
      w.emit("plan.proposed", projectId, { drafts: drafts.map((d) => d.id), usage: result.usage });
      return drafts;
    });
  }

  /** A request for a plan with no planner configured is refused before anything is created. */
  async #assertPlanner(projectId: string | undefined): Promise<void> {
    const id = await this.#projects.resolveId(this.#ctx.store.db, projectId);
    const row = await this.#ctx.store.db
      .selectFrom("projects")
      .select("config")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    const override = (JSON.parse(row.config) as ProjectConfig).planner;
    if (!override && !(await this.#providers.stored()).planner) {
      throw new GimoError(
        "unprocessable",
        "no planner model is configured: set one with PUT /ops/provider (or write the draft by hand with POST /ops/drafts)",
      );
    }
  }

  /** Aborts generations in flight (server shutdown); their drafts end in `error`. */
  async stop(): Promise<void> {
    for (const abort of this.#inflight.values())
      abort.abort(new GimoError("unavailable", "the server stopped during generation"));
    while (this.#inflight.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** Drafts left `generating` by a server that died (older than `minutes`) become `error`. */
  async failStale(principal: Principal, minutes = 15): Promise<number> {
    const before = new Date(this.#ctx.clock.now().getTime() - minutes * 60_000).toISOString();
    const stale = await this.#ctx.store.db
      .selectFrom("drafts")
      .select("id")
      .where("status", "=", "generating")
      .where("updated_at", "<", before)
      .execute();
    for (const { id } of stale)
      await this.#finish(principal, id, {
        error: "generation was interrupted; revise the draft to try again",
      });
    return stale.length;
  }

  #start(principal: Principal, draft: Draft, request: PlannerRequest): Promise<GimoError | undefined> {
    const abort = new AbortController();
    this.#inflight.set(draft.id, abort);
    const job = async (): Promise<GimoError | undefined> => {
      try {
        const setting = await this.#setting(draft.project_id, draft.task_id);
        const result = await draftPlan({
          ...setting,
          request,
          schema: PlanContent,
          schemaName: "plan",
          signal: abort.signal,
        });
        await this.#finish(principal, draft.id, {
          plan: result.plan,
          promptHash: result.prompt_hash,
          usage: result.usage,
        });
        return undefined;
      } catch (error) {
        const gimoError = isGimoError(error)
          ? error
          : new GimoError("unavailable", `generation failed: ${String(error)}`);
        const usage = (error as { usage?: { input_tokens: number; output_tokens: number } }).usage;
        await this.#finish(principal, draft.id, {
          error: this.#ctx.redactor.redact(gimoError.message),
          code: gimoError.code,
          usage,
        });
        return gimoError;
      } finally {
        this.#inflight.delete(draft.id);
      }
    };
    return job().catch((error: unknown) => new GimoError("internal", String(error)));
  }

  async #wait(draft: Draft, job: Promise<GimoError | undefined>): Promise<GenerateOutcome> {
    const waitMs = this.#ctx.config.generateWaitSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"pending">((r) => {
      timer = setTimeout(() => r("pending"), waitMs);
    });
    const outcome = await Promise.race([job, timeout]);
    clearTimeout(timer);
    const current = toDraft(await loadDraftRow(this.#ctx.store.db, draft.id));
    if (outcome === "pending") return { kind: "pending", draft: current };
    if (outcome && UNREACHABLE.has(outcome.code))
      return { kind: "unavailable", draft: current, error: outcome };
    return { kind: "done", draft: current };
  }

  /** What the planner is given: provider, prompts (with the repo's overrides), plan, context, runs. */
  async #setting(projectId: string, taskId: string | undefined) {
    const db = this.#ctx.store.db;
    const project = await db
      .selectFrom("projects")
      .selectAll()
      .where("id", "=", projectId)
      .executeTakeFirstOrThrow();
    const config = JSON.parse(project.config) as ProjectConfig;
    const planRow = await db
      .selectFrom("plans")
      .select("doc")
      .where("project_id", "=", projectId)
      .executeTakeFirstOrThrow();
    const planDoc = JSON.parse(planRow.doc) as PlanDocInput;
    const repoPath = project.repo_path ?? undefined;
    const [provider, prompts, repoContext, lastRuns] = await Promise.all([
      this.#providers.provider("planner", config.planner),
      loadPrompts("planner", { repoPath }),
      repoPath
        ? repositoryContext(repoPath)
        : Promise.resolve(`Repository: ${project.repo_url} (not available locally)`),
      this.#recentRuns(projectId, taskId),
    ]);
    return { provider, prompts, repoContext, lastRuns, planDoc };
  }

  async #recentRuns(projectId: string, taskId: string | undefined): Promise<RunSummary[]> {
    let q = this.#ctx.store.db
      .selectFrom("runs")
      .innerJoin("approved", "approved.id", "runs.approved_id")
      .select(["runs.id", "runs.status", "runs.error", "runs.result", "approved.plan"])
      .orderBy("runs.id", "desc")
      .limit(RECENT_RUNS);
    q = taskId ? q.where("runs.task_id", "=", taskId) : q.where("runs.project_id", "=", projectId);
    return (await q.execute()).map((r) => ({
      id: r.id,
      status: r.status,
      title: (JSON.parse(r.plan) as { title?: string }).title,
      ...(r.error ? { error: (JSON.parse(r.error) as { message?: string }).message } : {}),
    }));
  }

  async #finish(
    principal: Principal,
    draftId: string,
    end: {
      plan?: unknown;
      promptHash?: string;
      usage?: { input_tokens: number; output_tokens: number } | undefined;
      error?: string;
      code?: string;
    },
  ): Promise<void> {
    await this.#ctx.store.write(
      principal,
      async (w) => {
        const updated = await casDraft(w, draftId, "generating", end.error === undefined ? "draft" : "error")
          .set({
            // a model that echoed a secret it saw must not get it stored
            plan: end.plan === undefined ? null : this.#ctx.redactor.redact(JSON.stringify(end.plan)),
            prompt_hash: end.promptHash ?? null,
            usage: end.usage ? JSON.stringify(end.usage) : null,
            error: end.error ?? null,
          })
          .returning(["task_id"])
          .executeTakeFirst();
        if (!updated) return; // superseded or finished meanwhile
        if (end.error === undefined) {
          w.emit("draft.generated", draftId, {
            task_id: updated.task_id,
            prompt_hash: end.promptHash,
            usage: end.usage,
          });
        } else {
          w.emit("draft.failed", draftId, {
            task_id: updated.task_id,
            code: end.code ?? "error",
            message: end.error,
          });
        }
        await refreshTaskStatus(w, updated.task_id);
      },
      { allowInPanic: true },
    );
  }
}
