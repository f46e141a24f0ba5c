import type { AnswerOutcome, ChatAnswer } from "../contract/chat.ts";
import { GimoError, isGimoError } from "../core/errors.ts";
import { type Principal, roleAllows } from "../core/roles.ts";
import { activeRunStatuses } from "../core/run-machine.ts";
import type { DraftsTable } from "../store/schema.ts";
import type { ChatService } from "./chats.ts";
import type { AppContext } from "./context.ts";
import { type DraftService, loadDraftRow } from "./drafts.ts";

/**
 * Confirm and cancel in a chat (and on Telegram's buttons): the same approval gate as
 * `POST /ops/drafts/{id}/approve`, answered in words.
 *
 * Confirm finds the draft (the one named, which must belong to the chat, or the chat's pending
 * draft) and calls `DraftService.approve` — the one compare-and-swap every channel uses. So of
 * twenty confirms at once exactly one approves (and queues one run); the others are told what
 * happened instead. What is answered, not executed:
 *
 *   nothing_pending            no draft awaits approval in this chat
 *   already_running            the chat's task has a queued or running run
 *   already_approved           someone approved it first (a second press, another channel)
 *   superseded                 a newer revision replaced it (or it was rejected)
 *   not_allowed                the caller's role may not approve (actions)
 *   distinct_approver_required the plan requires an approver who wrote none of the draft
 *   refused                    the project cannot take a run now (archived, or it requires tests
 *                              and has none); nothing was approved, the draft still waits
 *
 * Every answer is also posted into the chat, so the conversation shows what happened.
 */
export class ChatApprovals {
  readonly #ctx: AppContext;
  readonly #chats: ChatService;
  readonly #drafts: DraftService;

  constructor(ctx: AppContext, chats: ChatService, drafts: DraftService) {
    this.#ctx = ctx;
    this.#chats = chats;
    this.#drafts = drafts;
  }

  async confirm(
    principal: Principal,
    chatId: string,
    body: { draft_id?: string | undefined; run?: boolean },
  ): Promise<ChatAnswer> {
    const target = await this.#target(chatId, body.draft_id);
    if (!roleAllows(principal.role, "operator")) {
      return this.#answer(principal, chatId, "not_allowed", target?.id ?? null, {
        text: `Your role (${principal.role}) may read but not approve plans; ask an operator to confirm.`,
      });
    }
    const active = await this.#activeRun(chatId);
    if (active) {
      return this.#answer(principal, chatId, "already_running", target?.id ?? null, {
        runId: active.id,
        text: `Already running: run ${active.id} is ${active.status}. Nothing new was started.`,
      });
    }
    if (target?.status !== "draft") return this.#notPending(principal, chatId, target);
    try {
      const { approved, run } = await this.#drafts.approve(principal, target.id, {
        auto_run: body.run ?? true,
      });
      return this.#answer(principal, chatId, "approved", target.id, {
        approvedId: approved.id,
        runId: run?.id ?? null,
        text: run
          ? `Approved revision ${target.rev} (${approved.content_hash.slice(0, 19)}…) by ${principal.actor}. Run ${run.id} is queued; progress will follow here.`
          : `Approved revision ${target.rev} by ${principal.actor} as ${approved.id}; no run was started.`,
      });
    } catch (error) {
      if (!isGimoError(error)) throw error;
      if (error.code === "distinct_approver_required") {
        return this.#answer(principal, chatId, "distinct_approver_required", target.id, {
          text: `This project requires a different approver: ${principal.actor} wrote part of this plan. Ask someone else to confirm.`,
        });
      }
      const refusal = refusalText(error.code);
      if (refusal) return this.#answer(principal, chatId, "refused", target.id, { text: refusal });
      if (error.code !== "illegal_transition" && error.code !== "conflict") throw error;
      // Lost the compare-and-swap: say what the winner did.
      return this.#notPending(principal, chatId, await loadDraftRow(this.#ctx.store.db, target.id));
    }
  }

  async cancel(
    principal: Principal,
    chatId: string,
    body: { draft_id?: string | undefined },
  ): Promise<ChatAnswer> {
    const target = await this.#target(chatId, body.draft_id);
    if (!roleAllows(principal.role, "operator")) {
      return this.#answer(principal, chatId, "not_allowed", target?.id ?? null, {
        text: `Your role (${principal.role}) may not cancel plans.`,
      });
    }
    if (target?.status !== "draft") return this.#notPending(principal, chatId, target);
    try {
      await this.#drafts.reject(principal, target.id, "cancelled in chat");
      return this.#answer(principal, chatId, "cancelled", target.id, {
        text: `Cancelled: revision ${target.rev} will not run. Tell me what you want instead.`,
      });
    } catch (error) {
      if (!isGimoError(error) || (error.code !== "illegal_transition" && error.code !== "conflict"))
        throw error;
      return this.#notPending(principal, chatId, await loadDraftRow(this.#ctx.store.db, target.id));
    }
  }

  /** The named draft (it must be one of the chat's) or the chat's newest. */
  async #target(chatId: string, draftId: string | undefined): Promise<DraftsTable | undefined> {
    const db = this.#ctx.store.db;
    await this.#chats.get(chatId);
    if (!draftId) return this.#chats.currentDraft(db, chatId);
    const draft = await loadDraftRow(db, draftId);
    if ((await this.#chats.chatOfTask(db, draft.task_id)) !== chatId) {
      throw new GimoError("not_found", `draft ${draftId} was not proposed in chat ${chatId}`);
    }
    return draft;
  }

  async #activeRun(chatId: string) {
    const taskId = await this.#chats.currentTask(this.#ctx.store.db, chatId);
    if (!taskId) return undefined;
    return this.#ctx.store.db
      .selectFrom("runs")
      .select(["id", "status"])
      .where("task_id", "=", taskId)
      .where("status", "in", activeRunStatuses)
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
  }

  async #notPending(principal: Principal, chatId: string, draft: DraftsTable | undefined) {
    if (!draft) {
      return this.#answer(principal, chatId, "nothing_pending", null, {
        text: "Nothing is waiting for approval in this chat. Describe a task and I will propose a plan.",
      });
    }
    if (draft.status === "approved") {
      const approval = await this.#ctx.store.db
        .selectFrom("approved")
        .select(["id", "approved_by"])
        .where("draft_id", "=", draft.id)
        .executeTakeFirst();
      return this.#answer(principal, chatId, "already_approved", draft.id, {
        approvedId: approval?.id ?? null,
        text: `Already approved by ${approval?.approved_by ?? "someone"}; nothing was done twice.`,
      });
    }
    if (draft.status === "rejected") {
      return this.#answer(principal, chatId, "nothing_pending", draft.id, {
        text: `Revision ${draft.rev} was cancelled; nothing is waiting for approval.`,
      });
    }
    if (draft.status === "superseded") {
      return this.#answer(principal, chatId, "superseded", draft.id, {
        text: `Revision ${draft.rev} is ${draft.status}; nothing was done. Use the newest plan in this chat.`,
      });
    }
    return this.#answer(principal, chatId, "nothing_pending", draft.id, {
      text: `Revision ${draft.rev} is ${draft.status}, not awaiting approval.`,
    });
  }

  async #answer(
    principal: Principal,
    chatId: string,
    outcome: AnswerOutcome,
    draftId: string | null,
    detail: { text: string; approvedId?: string | null; runId?: string | null },
  ): Promise<ChatAnswer> {
    const data = {
      outcome,
      draft_id: draftId,
      approved_id: detail.approvedId ?? null,
      run_id: detail.runId ?? null,
    };
    const message = await this.#chats.post(principal, chatId, {
      role: "assistant",
      kind: "answer",
      text: detail.text,
      data,
    });
    if (!message) throw new GimoError("internal", "an answer without origin was not stored");
    return { ...data, message };
  }
}

/**
 * Words for a project that refuses the run a confirm would queue. The approval and the run are
 * one transaction, so the refusal leaves the draft waiting: the user fixes the project and
 * confirms again.
 */
function refusalText(code: string): string | undefined {
  if (code === "tests_required") {
    return "Not approved: this project requires tests (require_tests) but has no test command, so no run could check the change. Set the project's test_command, then confirm again.";
  }
  if (code === "project_archived") {
    return "Not approved: this project is archived and takes no new runs. Unarchive it, then confirm again.";
  }
  return undefined;
}
