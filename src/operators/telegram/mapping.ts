import type { Services } from "../../app/services.ts";
import { systemPrincipal } from "../../core/roles.ts";

/**
 * Which GIMO chat each Telegram chat talks to (`telegram_chats`). A Telegram chat seen for the
 * first time gets a new GIMO chat on the default project; `/project NAME` gives it a new chat on
 * that project. The row also remembers a Revise press waiting for its feedback; taking it is a
 * compare-and-swap, so one feedback message revises once.
 */
export class TelegramChats {
  readonly #services: Services;

  constructor(services: Services) {
    this.#services = services;
  }

  async chatFor(telegramChatId: number, title: string): Promise<string> {
    const db = this.#services.ctx.store.db;
    const key = String(telegramChatId);
    const row = await db
      .selectFrom("telegram_chats")
      .select("chat_id")
      .where("telegram_chat_id", "=", key)
      .executeTakeFirst();
    if (row) return row.chat_id;
    const chat = await this.#services.chats.create(systemPrincipal, {
      title: `Telegram: ${title}`.slice(0, 200),
    });
    await db
      .insertInto("telegram_chats")
      .values({
        telegram_chat_id: key,
        chat_id: chat.id,
        awaiting_revision: null,
        updated_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.column("telegram_chat_id").doNothing())
      .execute();
    const mapped = await db
      .selectFrom("telegram_chats")
      .select("chat_id")
      .where("telegram_chat_id", "=", key)
      .executeTakeFirstOrThrow();
    return mapped.chat_id;
  }

  async projectNamed(name: string): Promise<{ id: string; name: string } | undefined> {
    return this.#services.ctx.store.db
      .selectFrom("projects")
      .select(["id", "name"])
      .where((eb) => eb.or([eb("name", "=", name), eb("id", "=", name)]))
      .executeTakeFirst();
  }

  async switchProject(telegramChatId: number, projectId: string, title: string): Promise<string> {
    const chat = await this.#services.chats.create(systemPrincipal, {
      project: projectId,
      title: title.slice(0, 200),
    });
    const now = new Date().toISOString();
    await this.#services.ctx.store.db
      .insertInto("telegram_chats")
      .values({
        telegram_chat_id: String(telegramChatId),
        chat_id: chat.id,
        awaiting_revision: null,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .column("telegram_chat_id")
          .doUpdateSet({ chat_id: chat.id, awaiting_revision: null, updated_at: now }),
      )
      .execute();
    return chat.id;
  }

  async awaitRevision(telegramChatId: number, draftId: string): Promise<void> {
    await this.#services.ctx.store.db
      .updateTable("telegram_chats")
      .set({ awaiting_revision: draftId, updated_at: new Date().toISOString() })
      .where("telegram_chat_id", "=", String(telegramChatId))
      .execute();
  }

  /** The draft a Revise press is waiting feedback for, cleared as it is taken. */
  async takeAwaitedRevision(telegramChatId: number): Promise<string | undefined> {
    const db = this.#services.ctx.store.db;
    const key = String(telegramChatId);
    const row = await db
      .selectFrom("telegram_chats")
      .select("awaiting_revision")
      .where("telegram_chat_id", "=", key)
      .executeTakeFirst();
    const draftId = row?.awaiting_revision;
    if (!draftId) return undefined;
    const taken = await db
      .updateTable("telegram_chats")
      .set({ awaiting_revision: null, updated_at: new Date().toISOString() })
      .where("telegram_chat_id", "=", key)
      .where("awaiting_revision", "=", draftId)
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) === 1 ? draftId : undefined;
  }

  async telegramChatsOf(chatId: string): Promise<string[]> {
    const rows = await this.#services.ctx.store.db
      .selectFrom("telegram_chats")
      .select("telegram_chat_id")
      .where("chat_id", "=", chatId)
      .execute();
    return rows.map((r) => r.telegram_chat_id);
  }
}
