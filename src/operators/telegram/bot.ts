import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, type Context, InlineKeyboard, InputFile } from "grammy";
import type { Update } from "grammy/types";
import { renderPlan } from "../../app/chat-conversation.ts";
import type { Services } from "../../app/services.ts";
import type { ChatMessage } from "../../contract/chat.ts";
import type { Draft } from "../../contract/draft.ts";
import { isGimoError } from "../../core/errors.ts";
import { idPattern } from "../../core/ids.ts";
import { type Access, type Principal, roleAllows, systemPrincipal } from "../../core/roles.ts";
import type { Logger } from "../../log.ts";
import type { TelegramConfig } from "./config.ts";
import { asDocument, chunks, runStatus } from "./format.ts";
import { TelegramChats } from "./mapping.ts";

/**
 * The Telegram operator: updates in, the same services as every other channel out.
 *
 * Who: a user listed in TELEGRAM_ALLOWED_USERS acts as `telegram:<user id>` with the role given
 * there; anyone else gets a polite refusal and a `telegram.refused` audit event (at most one per
 * user a minute, so a stranger cannot flood the log). Where: each Telegram chat talks to one GIMO
 * chat (mapping.ts), on the default project until `/project NAME` switches.
 *
 *   /task …     the planner drafts a plan; it is shown with the buttons
 *   /plan       the chat's current plan, with Approve · Approve & run · Reject · Revise
 *   /approve    approve the pending plan and run it
 *   /status /runs /abort <run> /project [NAME] /help
 *   free text   to the chat planner (chat-conversation), or the feedback a Revise press asked for
 *
 * Buttons carry the draft id. Approve and Reject go through ChatApprovals — the approval
 * compare-and-swap, the roles and the distinct-approver rule of every channel — so a second press,
 * a press on a superseded draft or by a role that may not approve is answered, never acted on twice.
 * Texts are escaped for HTML and split or sent as a file within Telegram's limits (format.ts).
 * Calls to the Bot API retry 429s after `retry_after` and 5xx/network errors with backoff
 * (grammY's auto-retry); the polling loop and the outbox live in poller.ts.
 */
export type GimoContext = Context & { principal: Principal };

const REFUSAL_WINDOW_MS = 60_000;
const HELP = [
  "GIMO: plan, approve and run coding tasks.",
  "/task <what to do> — the planner drafts a plan",
  "/plan — the current plan, with Approve · Approve & run · Reject · Revise",
  "/approve — approve the pending plan and run it",
  "/status — the current task and its run",
  "/runs — the project's latest runs",
  "/abort <run id> — cancel a run",
  "/project [name] — show or switch the project",
  "Anything else goes to the planner: ask questions, or ask for changes to the plan.",
].join("\n");

export class TelegramBot {
  readonly bot: Bot<GimoContext>;
  readonly #services: Services;
  readonly #config: TelegramConfig;
  readonly #logger: Logger;
  readonly #chats: TelegramChats;
  readonly #refused = new Map<number, number>();

  constructor(services: Services, config: TelegramConfig, logger: Logger) {
    this.#services = services;
    this.#config = config;
    this.#logger = logger;
    this.#chats = new TelegramChats(services);
    this.bot = new Bot<GimoContext>(config.token, { client: { apiRoot: config.apiRoot } });
    this.bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 300 }));
    this.#routes();
  }

  async init(signal?: AbortSignal): Promise<void> {
    // grammY types its signal with the abort-controller package's class; Node's is the same at run time
    await this.bot.init(signal as never);
  }

  /** Handles one update; a failure is answered in the chat where possible, never thrown. */
  async handle(update: Update): Promise<void> {
    try {
      await this.bot.handleUpdate(update);
    } catch (error) {
      const cause = (error as { error?: unknown }).error ?? error;
      this.#logger.warn("telegram update failed", { update_id: update.update_id, error: String(cause) });
    }
  }

  /** Sends a text into a Telegram chat: HTML-escaped, split, or as a file when long. */
  async send(telegramChatId: number | string, text: string, keyboard?: InlineKeyboard): Promise<void> {
    const api = this.bot.api;
    const markup = keyboard ? { reply_markup: keyboard } : {};
    if (asDocument(text)) {
      const head = chunks(text.split("\n")[0]?.slice(0, 200) ?? "")[0] ?? "";
      await api.sendDocument(telegramChatId, new InputFile(Buffer.from(text, "utf8"), "gimo.txt"), {
        caption: `${head}\n(the full text is attached)`,
        parse_mode: "HTML",
        ...markup,
      });
      return;
    }
    const parts = chunks(text);
    for (const [i, part] of parts.entries()) {
      await api.sendMessage(telegramChatId, part || "·", {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
        ...(i === parts.length - 1 ? markup : {}),
      });
    }
  }

  /** The GIMO chats a Telegram chat talks to (for the outbox). */
  telegramChatsOf(chatId: string): Promise<string[]> {
    return this.#chats.telegramChatsOf(chatId);
  }

  #routes(): void {
    const bot = this.bot;
    bot.use(async (ctx, next) => {
      const from = ctx.from;
      const role = from ? this.#config.allowed.get(from.id) : undefined;
      if (!from || !role) return this.#refuse(ctx);
      ctx.principal = { actor: `telegram:${from.id}`, role, tokenId: null };
      try {
        await next();
      } catch (error) {
        await this.#answerError(ctx, error);
      }
    });
    bot.command(["start", "help"], (ctx) => this.send(ctx.chat.id, HELP));
    bot.command("project", (ctx) => this.#project(ctx, ctx.match.trim()));
    bot.command("task", (ctx) => this.#task(ctx, ctx.match.trim()));
    bot.command("plan", (ctx) => this.#plan(ctx));
    bot.command("approve", (ctx) => this.#confirm(ctx, undefined, true));
    bot.command("status", (ctx) => this.#status(ctx));
    bot.command("runs", (ctx) => this.#runs(ctx));
    bot.command("abort", (ctx) => this.#abort(ctx, ctx.match.trim()));
    bot.on("callback_query:data", (ctx) => this.#button(ctx, ctx.callbackQuery.data));
    bot.on("message:text", (ctx) => this.#text(ctx, ctx.message.text));
  }

  async #refuse(ctx: Context): Promise<void> {
    const userId = ctx.from?.id ?? 0;
    const last = this.#refused.get(userId) ?? 0;
    if (ctx.callbackQuery)
      await ctx.answerCallbackQuery({ text: "Sorry, you are not allowed to use this bot." });
    if (Date.now() - last < REFUSAL_WINDOW_MS) return;
    this.#refused.set(userId, Date.now());
    await this.#services.ctx.store.write(
      systemPrincipal,
      async (w) => {
        w.emit("telegram.refused", `telegram:${userId}`, {
          user_id: userId,
          username: ctx.from?.username ?? null,
          chat_id: ctx.chat?.id ?? null,
          update: ctx.callbackQuery ? "callback_query" : ctx.message ? "message" : "other",
        });
      },
      { allowInPanic: true },
    );
    if (ctx.chat) {
      await this.send(
        ctx.chat.id,
        `Sorry, this bot only works for people its administrator has allowed. Your Telegram user id is ${userId}; ask the administrator to add it to TELEGRAM_ALLOWED_USERS.`,
      );
    }
  }

  /** Checks the caller's role for what the HTTP route of the same action requires. */
  async #may(ctx: GimoContext, access: Access, what: string): Promise<boolean> {
    if (roleAllows(ctx.principal.role, access)) return true;
    const text = `Your role (${ctx.principal.role}) may not ${what}.`;
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text });
    if (ctx.chat) await this.send(ctx.chat.id, text);
    return false;
  }

  async #answerError(ctx: GimoContext, error: unknown): Promise<void> {
    if (!isGimoError(error) || error.status >= 500) {
      this.#logger.warn("telegram handler failed", { error: String(error) });
    }
    const text =
      isGimoError(error) && error.status < 500
        ? error.message
        : "Something went wrong on GIMO's side; try again in a moment.";
    const reply =
      isGimoError(error) && error.code === "unavailable"
        ? `The planner model could not be reached: ${error.message}`
        : text;
    try {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: reply.slice(0, 190) });
      else if (ctx.chat) await this.send(ctx.chat.id, reply);
    } catch (sendError) {
      this.#logger.warn("telegram: could not report an error", { error: String(sendError) });
    }
  }

  async #chatOf(ctx: GimoContext): Promise<string> {
    const chat = ctx.chat;
    if (!chat) throw new Error("an update without a chat");
    const title =
      "title" in chat && chat.title
        ? chat.title
        : ctx.from?.username
          ? `@${ctx.from.username}`
          : String(chat.id);
    return this.#chats.chatFor(chat.id, title);
  }

  async #project(ctx: GimoContext, name: string): Promise<void> {
    const chatId = await this.#chatOf(ctx);
    const { projects, chats } = this.#services;
    if (!name) {
      const current = await projects.get((await chats.get(chatId)).project_id);
      const all = (await projects.list(50)).items.map((p) => `- ${p.name}`).join("\n");
      await this.send(ctx.chat?.id ?? 0, `Project: ${current.name}\nSwitch with /project NAME:\n${all}`);
      return;
    }
    if (!(await this.#may(ctx, "operator", "switch projects"))) return;
    const project = await this.#chats.projectNamed(name);
    if (!project) {
      await this.send(ctx.chat?.id ?? 0, `There is no project named "${name}". /project lists them.`);
      return;
    }
    await this.#chats.switchProject(ctx.chat?.id ?? 0, project.id, `Telegram: ${project.name}`);
    await this.send(ctx.chat?.id ?? 0, `Now working on ${project.name}. /task to start.`);
  }

  async #task(ctx: GimoContext, prompt: string): Promise<void> {
    const tgChat = ctx.chat?.id ?? 0;
    if (!prompt)
      return this.send(tgChat, "Usage: /task <what to do>, e.g. /task fix the failing date parser test");
    if (!(await this.#may(ctx, "operator", "create tasks"))) return;
    if (prompt.length > 8_000) return this.send(tgChat, "That task is too long (at most 8,000 characters).");
    const chatId = await this.#chatOf(ctx);
    const { chats, planning } = this.#services;
    const chat = await chats.get(chatId);
    await chats.post(ctx.principal, chatId, { role: "user", kind: "text", text: `/task ${prompt}` });
    const outcome = await planning.generate(ctx.principal, { prompt, project: chat.project_id });
    await this.#showDraft(ctx, chatId, outcome.draft);
  }

  /** Posts a new draft into the chat and shows it with its buttons (or says why it cannot). */
  async #showDraft(ctx: GimoContext, chatId: string, draft: Draft): Promise<void> {
    const tgChat = ctx.chat?.id ?? 0;
    const text = draft.plan ? renderPlan(draft.plan, draft.rev) : "";
    await this.#services.chats.adoptDraft(
      ctx.principal,
      chatId,
      draft,
      text || `Draft ${draft.id} is ${draft.status}.`,
    );
    if (draft.status === "draft") return this.send(tgChat, text, buttons(draft.id));
    if (draft.status === "generating")
      return this.send(tgChat, "Planning… send /plan in a moment to see the plan.");
    return this.send(
      tgChat,
      `The planner could not make a plan: ${draft.error ?? draft.status}. Try /task again, rephrased.`,
    );
  }

  async #plan(ctx: GimoContext): Promise<void> {
    const chatId = await this.#chatOf(ctx);
    const tgChat = ctx.chat?.id ?? 0;
    const row = await this.#services.chats.currentDraft(this.#services.ctx.store.db, chatId);
    if (!row) return this.send(tgChat, "No plan yet. Start one with /task <what to do>.");
    const draft = await this.#services.drafts.get(row.id);
    if (draft.status === "generating")
      return this.send(tgChat, "Still planning; try /plan again in a moment.");
    const text = `${renderPlan(draft.plan, draft.rev)}\n\nStatus: ${draft.status}`;
    return this.send(tgChat, text, draft.status === "draft" ? buttons(draft.id) : undefined);
  }

  async #confirm(ctx: GimoContext, draftId: string | undefined, run: boolean): Promise<void> {
    const chatId = await this.#chatOf(ctx);
    const answer = await this.#services.chatApprovals.confirm(ctx.principal, chatId, {
      draft_id: draftId,
      run,
    });
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: answer.outcome.replace(/_/g, " ") });
    await this.send(ctx.chat?.id ?? 0, answer.message.text);
  }

  async #button(ctx: GimoContext, data: string): Promise<void> {
    const match = /^([arxv]):(d_[0-9A-HJKMNP-TV-Z]{26})$/.exec(data);
    if (!match || !ctx.chat) {
      await ctx.answerCallbackQuery({ text: "This button is not one of GIMO's." });
      return;
    }
    const [, action, draftId] = match as unknown as [string, string, string];
    if (action === "a" || action === "r") return this.#confirm(ctx, draftId, action === "r");
    const chatId = await this.#chatOf(ctx);
    if (action === "x") {
      const answer = await this.#services.chatApprovals.cancel(ctx.principal, chatId, { draft_id: draftId });
      await ctx.answerCallbackQuery({ text: answer.outcome.replace(/_/g, " ") });
      return this.send(ctx.chat.id, answer.message.text);
    }
    if (!(await this.#may(ctx, "operator", "revise plans"))) return;
    const draft = await this.#services.drafts.get(draftId);
    if (draft.status !== "draft") {
      await ctx.answerCallbackQuery({ text: `revision ${draft.rev} is ${draft.status}` });
      return this.send(
        ctx.chat.id,
        `Revision ${draft.rev} is ${draft.status}; nothing to revise. /plan shows the current one.`,
      );
    }
    await this.#chats.awaitRevision(ctx.chat.id, draftId);
    await ctx.answerCallbackQuery({ text: "send your feedback" });
    return this.send(
      ctx.chat.id,
      `What should change in revision ${draft.rev}? Send your feedback as the next message.`,
    );
  }

  async #text(ctx: GimoContext, text: string): Promise<void> {
    const tgChat = ctx.chat?.id ?? 0;
    if (text.startsWith("/")) return this.send(tgChat, `Unknown command. ${HELP}`);
    const chatId = await this.#chatOf(ctx);
    const revising = await this.#chats.takeAwaitedRevision(tgChat);
    if (revising) {
      if (!(await this.#may(ctx, "operator", "revise plans"))) return;
      await this.#services.chats.post(ctx.principal, chatId, { role: "user", kind: "text", text });
      const outcome = await this.#services.planning.revise(ctx.principal, revising, text);
      return this.#showDraft(ctx, chatId, outcome.draft);
    }
    const reply = await this.#services.conversation.send(ctx.principal, chatId, text);
    for (const message of reply.messages) await this.#forward(tgChat, message);
  }

  /** Shows a chat message in Telegram: a plan with its buttons, anything else as text. */
  async #forward(telegramChatId: number, message: ChatMessage): Promise<void> {
    if (message.role === "user") return;
    const draftId = message.kind === "plan" ? (message.data?.draft_id as string | undefined) : undefined;
    await this.send(
      telegramChatId,
      message.text,
      draftId && idPattern("draft").test(draftId) ? buttons(draftId) : undefined,
    );
  }

  async #status(ctx: GimoContext): Promise<void> {
    const chatId = await this.#chatOf(ctx);
    const { chats, tasks, projects, ctx: app } = this.#services;
    const chat = await chats.get(chatId);
    const project = await projects.get(chat.project_id);
    const taskId = await chats.currentTask(app.store.db, chatId);
    if (!taskId)
      return this.send(
        ctx.chat?.id ?? 0,
        `Project ${project.name}: no task in this chat yet. /task to start.`,
      );
    const task = await tasks.get(taskId);
    const run = task.runs[0];
    const lines = [`Project ${project.name}`, `Task ${task.id}: ${task.status}`, task.prompt.slice(0, 300)];
    if (run) lines.push(`Run ${run.id}: ${runStatus(run)}${run.result?.link ? `\n${run.result.link}` : ""}`);
    return this.send(ctx.chat?.id ?? 0, lines.join("\n"));
  }

  async #runs(ctx: GimoContext): Promise<void> {
    const chatId = await this.#chatOf(ctx);
    const chat = await this.#services.chats.get(chatId);
    const page = await this.#services.runs.list({ project: chat.project_id, limit: 5 });
    const lines = page.items.map(
      (r) => `${r.id} ${runStatus(r)}${r.result?.link ? ` ${r.result.link}` : ""}`,
    );
    return this.send(
      ctx.chat?.id ?? 0,
      lines.length > 0 ? `Latest runs:\n${lines.join("\n")}` : "No runs yet.",
    );
  }

  async #abort(ctx: GimoContext, runId: string): Promise<void> {
    const tgChat = ctx.chat?.id ?? 0;
    if (!idPattern("run").test(runId))
      return this.send(tgChat, "Usage: /abort <run id> (r_…); /runs lists them.");
    if (!(await this.#may(ctx, "operator", "cancel runs"))) return;
    const run = await this.#services.runs.cancel(ctx.principal, runId, "aborted from Telegram");
    const what =
      run.status === "cancelled" ? "cancelled" : "asked to stop; it ends within one lease heartbeat";
    return this.send(tgChat, `Run ${run.id} ${what}.`);
  }
}

function buttons(draftId: string): InlineKeyboard {
  return new InlineKeyboard()
    .text("Approve", `a:${draftId}`)
    .text("Approve & run", `r:${draftId}`)
    .row()
    .text("Reject", `x:${draftId}`)
    .text("Revise", `v:${draftId}`);
}
