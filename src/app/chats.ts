import type { Kysely } from "kysely";
import type { Chat, ChatCreate, ChatMessage, ChatPatch } from "../contract/chat.ts";
import type { Draft } from "../contract/draft.ts";
import { GimoError, notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import type { ChatMessagesTable, ChatsTable, Database, DraftsTable } from "../store/schema.ts";
import type { Write } from "../store/store.ts";
import type { AppContext } from "./context.ts";
import type { ProjectService } from "./projects.ts";
import { assertProjectOpen } from "./projects.ts";

/**
 * Chats and their messages: the store side of the conversational channel (SPEC §7.4).
 *
 * A chat belongs to a project; its messages are appended, never edited. Every message is appended
 * inside a unit of work with a `chat.message` event about the chat, so a chat's SSE stream (the
 * event log filtered to the chat's id) shows each message once, in commit order. A message posted
 * by a background follower carries an `origin` that is unique per chat: posting it again (another
 * replica, a restart) changes nothing. Which tasks were proposed in a chat is kept in
 * `chat_tasks`; the chat's *pending draft* is the newest revision of its newest task while that
 * revision is in status `draft`.
 */
export interface NewMessage {
  role: ChatMessage["role"];
  kind: ChatMessage["kind"];
  text: string;
  data?: Record<string, unknown>;
  origin?: string;
}

/** Longest text stored in one message; longer texts are cut with a note. */
const MAX_MESSAGE_CHARS = 32_000;

export class ChatService {
  readonly #ctx: AppContext;
  readonly #projects: ProjectService;

  constructor(ctx: AppContext, projects: ProjectService) {
    this.#ctx = ctx;
    this.#projects = projects;
  }

  async create(principal: Principal, input: ChatCreate): Promise<Chat> {
    return this.#ctx.store.write(principal, async (w) => {
      const projectId = await this.#projects.resolveId(w.tx, input.project);
      await assertProjectOpen(w, projectId);
      const row: ChatsTable = {
        id: this.#ctx.ids("chat"),
        project_id: projectId,
        title: input.title ?? "New chat",
        archived: 0,
        created_by: principal.actor,
        created_at: w.now,
        updated_at: w.now,
      };
      await w.tx.insertInto("chats").values(row).execute();
      w.emit("chat.created", row.id, { project_id: projectId, title: row.title });
      return toChat(row);
    });
  }

  async list(filter: {
    project?: string;
    archived: "true" | "false" | "all";
    limit: number;
    cursor?: string;
  }): Promise<Page<Chat>> {
    let q = this.#ctx.store.db.selectFrom("chats").selectAll();
    if (filter.project) q = q.where("project_id", "=", filter.project);
    if (filter.archived !== "all") q = q.where("archived", "=", filter.archived === "true" ? 1 : 0);
    return keysetPage(q, { key: "id", order: "desc", limit: filter.limit, cursor: filter.cursor }, toChat);
  }

  async get(id: string): Promise<Chat> {
    return toChat(await loadChatRow(this.#ctx.store.db, id));
  }

  async patch(principal: Principal, id: string, patch: ChatPatch): Promise<Chat> {
    return this.#ctx.store.write(principal, async (w) => {
      const set: Partial<ChatsTable> = { updated_at: w.now };
      if (patch.title !== undefined) set.title = patch.title;
      if (patch.archived !== undefined) set.archived = patch.archived ? 1 : 0;
      const row = await w.tx
        .updateTable("chats")
        .set(set)
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw notFound("chat", id);
      w.emit("chat.updated", id, { title: row.title, archived: row.archived === 1 });
      return toChat(row);
    });
  }

  async messages(
    chatId: string,
    page: { order: "asc" | "desc"; limit: number; cursor?: string },
  ): Promise<Page<ChatMessage>> {
    await loadChatRow(this.#ctx.store.db, chatId);
    const q = this.#ctx.store.db.selectFrom("chat_messages").selectAll().where("chat_id", "=", chatId);
    return keysetPage(q, { key: "id", ...page }, toMessage);
  }

  /** The newest messages of a chat, oldest first (what the planner is shown). */
  async recent(chatId: string, limit: number): Promise<ChatMessage[]> {
    const rows = await this.#ctx.store.db
      .selectFrom("chat_messages")
      .selectAll()
      .where("chat_id", "=", chatId)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.reverse().map(toMessage);
  }

  /** Appends a message to a chat in its own unit of work. */
  async post(principal: Principal, chatId: string, message: NewMessage): Promise<ChatMessage | null> {
    return this.#ctx.store.write(principal, (w) => this.append(w, chatId, message), {
      // Run progress and answers must reach the chat even while panic mode stops new work.
      allowInPanic: message.role !== "user",
    });
  }

  /**
   * Appends inside the caller's write. A message whose `origin` the chat already has is not
   * appended again (null). An archived chat takes no new user messages.
   */
  async append(w: Write, chatId: string, message: NewMessage): Promise<ChatMessage | null> {
    const chat = await loadChatRow(w.tx, chatId);
    if (message.role === "user" && chat.archived === 1) {
      throw new GimoError("illegal_transition", `chat ${chatId} is archived; unarchive it to write in it`);
    }
    if (message.origin) {
      const seen = await w.tx
        .selectFrom("chat_messages")
        .select("id")
        .where("chat_id", "=", chatId)
        .where("origin", "=", message.origin)
        .executeTakeFirst();
      if (seen) return null;
    }
    const text =
      message.text.length > MAX_MESSAGE_CHARS
        ? `${message.text.slice(0, MAX_MESSAGE_CHARS)}\n… (cut: ${message.text.length} characters)`
        : message.text;
    const row: ChatMessagesTable = {
      id: this.#ctx.ids("message"),
      chat_id: chatId,
      role: message.role,
      kind: message.kind,
      text: this.#ctx.redactor.redact(text),
      data: message.data ? this.#ctx.redactor.redact(JSON.stringify(message.data)) : null,
      author: message.role === "user" ? w.principal.actor : "gimo",
      origin: message.origin ?? null,
      created_at: w.now,
    };
    await w.tx.insertInto("chat_messages").values(row).execute();
    await w.tx.updateTable("chats").set({ updated_at: w.now }).where("id", "=", chatId).execute();
    w.emit("chat.message", chatId, { message_id: row.id, role: row.role, kind: row.kind });
    return toMessage(row);
  }

  /** Records that `taskId` was proposed in `chatId` (its runs report there). */
  async linkTask(w: Write, chatId: string, taskId: string): Promise<void> {
    await w.tx
      .insertInto("chat_tasks")
      .values({ task_id: taskId, chat_id: chatId, created_at: w.now })
      .onConflict((oc) => oc.column("task_id").doNothing())
      .execute();
  }

  /**
   * Shows a draft made elsewhere (`/task` on Telegram: the planner's JSON path) in a chat: links its
   * task to the chat and posts it as a `plan` message, in one unit of work.
   */
  async adoptDraft(
    principal: Principal,
    chatId: string,
    draft: Draft,
    text: string,
  ): Promise<ChatMessage | null> {
    return this.#ctx.store.write(principal, async (w) => {
      await this.linkTask(w, chatId, draft.task_id);
      return this.append(w, chatId, {
        role: "assistant",
        kind: "plan",
        text,
        data: { draft_id: draft.id, task_id: draft.task_id, rev: draft.rev, plan: draft.plan },
      });
    });
  }

  /** The chat's newest task, if any. */
  async currentTask(db: Kysely<Database>, chatId: string): Promise<string | undefined> {
    const row = await db
      .selectFrom("chat_tasks")
      .select("task_id")
      .where("chat_id", "=", chatId)
      .orderBy("task_id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row?.task_id;
  }

  /** The newest revision of the chat's newest task (whatever its status). */
  async currentDraft(db: Kysely<Database>, chatId: string): Promise<DraftsTable | undefined> {
    const taskId = await this.currentTask(db, chatId);
    if (!taskId) return undefined;
    return db
      .selectFrom("drafts")
      .selectAll()
      .where("task_id", "=", taskId)
      .orderBy("rev", "desc")
      .limit(1)
      .executeTakeFirst();
  }

  /** Of these runs, those whose task was proposed in a chat: run id → chat id (one query). */
  async chatsOfRuns(db: Kysely<Database>, runIds: string[]): Promise<Map<string, string>> {
    if (runIds.length === 0) return new Map();
    const rows = await db
      .selectFrom("runs")
      .innerJoin("chat_tasks", "chat_tasks.task_id", "runs.task_id")
      .select(["runs.id as run_id", "chat_tasks.chat_id"])
      .where("runs.id", "in", runIds)
      .execute();
    return new Map(rows.map((r) => [r.run_id, r.chat_id]));
  }

  /** The chat a task was proposed in, if any. */
  async chatOfTask(db: Kysely<Database>, taskId: string): Promise<string | undefined> {
    const row = await db
      .selectFrom("chat_tasks")
      .select("chat_id")
      .where("task_id", "=", taskId)
      .executeTakeFirst();
    return row?.chat_id;
  }
}

export async function loadChatRow(db: Kysely<Database>, id: string): Promise<ChatsTable> {
  const row = await db.selectFrom("chats").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("chat", id);
  return row;
}

export function toChat(row: ChatsTable): Chat {
  return {
    id: row.id,
    project_id: row.project_id,
    title: row.title,
    archived: row.archived === 1,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function toMessage(row: ChatMessagesTable): ChatMessage {
  return {
    id: row.id,
    chat_id: row.chat_id,
    role: row.role as ChatMessage["role"],
    kind: row.kind as ChatMessage["kind"],
    text: row.text,
    data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : null,
    author: row.author,
    created_at: row.created_at,
  };
}
