import type { ChatMessage, MessageReply } from "../contract/chat.ts";
import type { IntegrationTool } from "../contract/integration.ts";
import type { ProjectConfig } from "../contract/project.ts";
import { GimoError, isGimoError } from "../core/errors.ts";
import { type Principal, roleAllows } from "../core/roles.ts";
import type { ChatMessage as LlmMessage, ToolCall } from "../llm/port.ts";
import { loadPromptSet, promptManifest } from "../llm/prompts.ts";
import { toDraft } from "../store/rows.ts";
import type { ChatApprovals } from "./chat-approval.ts";
import { type ChatToolServices, chatToolSpecs, parseProposal, runReadTool } from "./chat-tools.ts";
import type { ChatService } from "./chats.ts";
import { loadChatRow } from "./chats.ts";
import type { DraftService } from "./drafts.ts";
import type { IntegrationGateway } from "./integration-gateway.ts";
import type { IntegrationService } from "./integrations.ts";
import type { ProviderService } from "./providers.ts";

/** What the conversation uses (a narrow view of Services: app/ services never import services.ts back). */
export interface ChatConversationServices extends ChatToolServices {
  chats: ChatService;
  drafts: DraftService;
  providers: ProviderService;
  integrations: IntegrationService;
  gateway: IntegrationGateway;
}

/**
 * One turn of a chat: the person's message in, the planner's reply (and any proposed plan) out.
 *
 *   1. "confirm"/"yes" or "cancel"/"no" while a plan is pending is a confirm or cancel
 *      (chat-approval), not a question for the model;
 *   2. otherwise the message is stored, and the chat's history — the newest messages that fit the
 *      token budget, the older ones summarised into one note — goes to the planner model with the
 *      chat tools (chat-tools);
 *   3. the tool loop runs up to MAX_STEPS model turns. `propose_plan` writes a draft through the
 *      drafts service: a new task, or, while the chat's plan is still pending, the next revision of
 *      that task (the old one superseded) — so "make step 2 also update the docs" becomes a
 *      revision. The plan is posted as a `plan` message asking to confirm or cancel;
 *   4. the model's last text is stored as the reply.
 *
 * A model that cannot be reached leaves the person's message stored and is answered with an
 * `error` message (`data.code`: unavailable, rate_limited…) saying what to do. With no planner
 * configured at all the turn is refused (422) before anything is stored.
 */
const MAX_STEPS = 6;
/** History budget in tokens (≈ 4 characters each). */
const HISTORY_TOKENS = 6_000;
const SUMMARY_CHARS = 1_500;
const CONFIRM_WORDS = new Set(["confirm", "yes", "approve", "go", "run it", "ok"]);
const CANCEL_WORDS = new Set(["cancel", "no", "reject", "stop"]);

export class ChatConversation {
  readonly #services: ChatConversationServices;
  readonly #approvals: ChatApprovals;

  constructor(services: ChatConversationServices, approvals: ChatApprovals) {
    this.#services = services;
    this.#approvals = approvals;
  }

  async send(principal: Principal, chatId: string, text: string): Promise<MessageReply> {
    const { chats, ctx } = this.#services;
    if (!roleAllows(principal.role, "operator")) {
      throw new GimoError("forbidden", `role ${principal.role} may read chats but not write in them`);
    }
    const chat = await loadChatRow(ctx.store.db, chatId);
    const word = text
      .trim()
      .toLowerCase()
      .replace(/[.!]+$/, "");
    const pending = await chats.currentDraft(ctx.store.db, chatId);
    if (pending?.status === "draft" && (CONFIRM_WORDS.has(word) || CANCEL_WORDS.has(word))) {
      const asked = await chats.post(principal, chatId, { role: "user", kind: "text", text });
      const answer = CONFIRM_WORDS.has(word)
        ? await this.#approvals.confirm(principal, chatId, { run: true })
        : await this.#approvals.cancel(principal, chatId, {});
      return { messages: [...(asked ? [asked] : []), answer.message] };
    }

    const project = await ctx.store.db
      .selectFrom("projects")
      .selectAll()
      .where("id", "=", chat.project_id)
      .executeTakeFirstOrThrow();
    const config = JSON.parse(project.config) as ProjectConfig;
    if (!config.planner && !(await this.#services.providers.stored()).planner) {
      throw new GimoError(
        "unprocessable",
        "no planner model is configured: set one with PUT /ops/provider before chatting",
      );
    }
    const asked = await chats.post(principal, chatId, { role: "user", kind: "text", text });
    const out: ChatMessage[] = asked ? [asked] : [];
    const repoPath = project.repo_path ?? undefined;
    let provider: Awaited<ReturnType<ProviderService["provider"]>>;
    try {
      provider = await this.#services.providers.provider("planner", config.planner);
    } catch (error) {
      return { messages: [...out, await this.#failed(principal, chatId, error)] };
    }
    const prompts = await loadPromptSet([...promptManifest.planner, "chat/role.md"], { repoPath });
    const system = `${prompts.system}\n\n${await this.#situation(chatId, project.name)}`;
    const messages = historyFor(await chats.recent(chatId, 200));
    // The project's allow-listed integration operations join the planner's own tools.
    const integrationTools = await this.#services.integrations.toolsFor(project.id);
    const tools = [
      ...chatToolSpecs(),
      ...integrationTools.map(({ name, description, parameters }) => ({ name, description, parameters })),
    ];

    for (let step = 0; step < MAX_STEPS; step++) {
      let result: Awaited<ReturnType<typeof provider.step>>;
      try {
        result = await provider.step({ system, messages, tools });
      } catch (error) {
        return { messages: [...out, await this.#failed(principal, chatId, error)] };
      }
      if (result.toolCalls.length === 0) {
        const reply = result.text.trim();
        if (reply) {
          const m = await chats.post(principal, chatId, { role: "assistant", kind: "text", text: reply });
          if (m) out.push(m);
        }
        return { messages: out };
      }
      messages.push({ role: "assistant", content: result.text, toolCalls: result.toolCalls });
      for (const call of result.toolCalls) {
        const integration = integrationTools.find((t) => t.name === call.name);
        const outcome = integration
          ? await this.#integration(principal, project.id, integration, call)
          : await this.#tool(principal, chatId, { id: project.id, repo_path: project.repo_path }, call, out);
        messages.push({
          role: "tool",
          toolCallId: call.id,
          toolName: call.name,
          content: outcome.text,
          ...(outcome.ok ? {} : { isError: true }),
        });
      }
    }
    const m = await chats.post(principal, chatId, {
      role: "assistant",
      kind: "text",
      text: "I stopped after too many steps without an answer. Try asking more precisely.",
    });
    if (m) out.push(m);
    return { messages: out };
  }

  async #tool(
    principal: Principal,
    chatId: string,
    project: { id: string; repo_path: string | null },
    call: ToolCall,
    out: ChatMessage[],
  ): Promise<{ ok: boolean; text: string }> {
    if (call.name !== "propose_plan") return runReadTool(this.#services, project, call.name, call.args);
    const parsed = parseProposal(call.args);
    if (!parsed.ok) return parsed;
    const { chats, drafts, ctx } = this.#services;
    try {
      const posted = await ctx.store.write(principal, async (w) => {
        const current = await chats.currentDraft(w.tx, chatId);
        const revising = current?.status === "draft";
        const row = await drafts.insertRevision(
          w,
          revising
            ? { prompt: current.prompt, task_id: current.task_id, plan: parsed.value.plan }
            : { prompt: parsed.value.prompt, project: project.id, plan: parsed.value.plan },
          "draft",
        );
        await chats.linkTask(w, chatId, row.task_id);
        const draft = toDraft(row);
        const message = await chats.append(w, chatId, {
          role: "assistant",
          kind: "plan",
          text: `${renderPlan(draft.plan, draft.rev)}\n\nConfirm to approve and run it, or cancel.`,
          data: { draft_id: draft.id, task_id: draft.task_id, rev: draft.rev, plan: draft.plan },
        });
        return { draft, message };
      });
      if (posted.message) out.push(posted.message);
      return {
        ok: true,
        text: `draft ${posted.draft.id} (revision ${posted.draft.rev} of task ${posted.draft.task_id}) is shown to the person with Confirm and Cancel`,
      };
    } catch (error) {
      if (isGimoError(error) && error.status < 500) return { ok: false, text: error.message };
      throw error;
    }
  }

  /** An allow-listed integration operation, through the one gateway (audited as a chat call). */
  async #integration(
    principal: Principal,
    projectId: string,
    tool: IntegrationTool,
    call: ToolCall,
  ): Promise<{ ok: boolean; text: string }> {
    const outcome = await this.#services.gateway
      .call({
        integration: tool.integration,
        operation: tool.operation,
        args: call.args,
        caller: "chat",
        projectId,
        runId: null,
        principal,
      })
      .catch((error: unknown) => {
        if (isGimoError(error) && error.code === "not_found")
          return { ok: false, status: "refused", content: error.message };
        throw error;
      });
    return { ok: outcome.ok, text: outcome.ok ? outcome.content : `${outcome.status}: ${outcome.content}` };
  }

  /** What the model is told about this chat besides the history: the project and the pending plan. */
  async #situation(chatId: string, projectName: string): Promise<string> {
    const pending = await this.#services.chats.currentDraft(this.#services.ctx.store.db, chatId);
    const parts = [`## This chat\n\nProject: ${projectName}`];
    if (pending?.status === "draft" && pending.plan) {
      parts.push(
        `A plan is pending confirmation (draft ${pending.id}, revision ${pending.rev}). ` +
          "A change the person asks for becomes its next revision through propose_plan:\n\n" +
          `\`\`\`json\n${pending.plan}\n\`\`\``,
      );
    }
    return parts.join("\n\n");
  }

  /**
   * Posts what went wrong as the reply. A model that cannot be reached (down, rate limited, or
   * refusing the request) is not the caller's fault and not a server crash: the turn is answered
   * with an `error` message naming the code; anything else is a bug and is thrown.
   */
  async #failed(principal: Principal, chatId: string, error: unknown): Promise<ChatMessage> {
    if (!isGimoError(error)) throw error;
    const what =
      error.code === "unavailable" || error.code === "rate_limited"
        ? `The planner model could not be reached (${this.#services.ctx.redactor.redact(error.message)}). Try again in a moment; an admin can check GET /ops/provider/health.`
        : `The planner could not answer: ${error.message}`;
    const message = await this.#services.chats.post(principal, chatId, {
      role: "system",
      kind: "error",
      text: what,
      data: { code: error.code },
    });
    if (!message) throw new GimoError("internal", "an error message without origin was not stored");
    return message;
  }
}

/**
 * The model's view of the chat: the newest messages that fit HISTORY_TOKENS; the older ones as one
 * summary note (first line of each, newest kept when it is too long).
 */
export function historyFor(messages: ChatMessage[]): LlmMessage[] {
  let budget = HISTORY_TOKENS * 4;
  let cut = messages.length;
  while (cut > 0) {
    const size = (messages[cut - 1]?.text.length ?? 0) + 20;
    if (size > budget && cut < messages.length) break;
    budget -= size;
    cut--;
  }
  const older = messages.slice(0, cut);
  const kept = messages.slice(cut);
  const out: LlmMessage[] = [];
  if (older.length > 0) {
    const lines = older.map((m) => `- ${m.role}: ${(m.text.split("\n")[0] ?? "").slice(0, 120)}`);
    let summary = lines.join("\n");
    if (summary.length > SUMMARY_CHARS) summary = `…\n${summary.slice(-SUMMARY_CHARS)}`;
    out.push({
      role: "user",
      content: `(Summary of the ${older.length} earlier messages of this chat)\n${summary}`,
    });
  }
  for (const m of kept) {
    const text = m.text.length > HISTORY_TOKENS * 4 ? `…${m.text.slice(-HISTORY_TOKENS * 4)}` : m.text;
    if (m.role === "user") out.push({ role: "user", content: text });
    else out.push({ role: "assistant", content: m.kind === "text" ? text : `[${m.kind}] ${text}` });
  }
  return out;
}

/** A plan as readable text (also what Telegram shows). */
export function renderPlan(plan: unknown, rev: number): string {
  const p = plan as {
    title?: string;
    summary?: string;
    steps?: { id: string; kind: string; title: string }[];
    acceptance?: string[];
    risk?: string;
  } | null;
  if (!p) return `Revision ${rev}: (no plan)`;
  const lines = [`Plan (revision ${rev}): ${p.title ?? ""}`];
  if (p.summary) lines.push(p.summary.trim());
  for (const [i, s] of (p.steps ?? []).entries()) lines.push(`${i + 1}. [${s.kind}] ${s.title}`);
  if (p.acceptance?.length) lines.push(`Acceptance: ${p.acceptance.join("; ")}`);
  if (p.risk) lines.push(`Risk: ${p.risk}`);
  return lines.join("\n");
}
