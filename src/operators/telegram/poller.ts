import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { GrammyError, HttpError } from "grammy";
import { toMessage } from "../../app/chats.ts";
import type { Services } from "../../app/services.ts";
import { backoff, noJitter } from "../../core/backoff.ts";
import type { Logger } from "../../log.ts";
import { releaseLease, takeLease } from "../../store/leases.ts";
import { readSetting, writeSetting } from "../../store/settings.ts";
import { TelegramBot } from "./bot.ts";
import type { TelegramConfig } from "./config.ts";

/**
 * Running the bot: long polling and the outbox, in whichever process holds the lease.
 *
 * Replicas sharing a database each start this; only the holder of the `telegram.poller` lease
 * (store/leases) calls getUpdates — Telegram allows one poller per bot, and two would split the
 * updates between them. The holder renews the lease before every poll; a replica that dies loses it
 * after LEASE_MS and another takes over, from the same offset.
 *
 * The offset (the next update id wanted) is kept in `settings` after each update is handled, so a
 * restart asks only for updates not handled yet — a restart never replays a handled update (an
 * update being handled when the process died is asked for again: at least once, and every action
 * an update can take is a compare-and-swap that answers a repeat).
 *
 * The outbox follows the event log (`chat.message`) and sends into Telegram what runs post into
 * chats that Telegram chats talk to: a run's start and its end (result with branch and link, or the
 * failure and what to do). Its cursor is kept too, so a restart neither repeats nor skips.
 *
 * Errors: a 429 is waited out inside the API call (auto-retry, `retry_after`); other failures of
 * getUpdates back off exponentially (1 s … 60 s) and polling goes on; a token Telegram rejects
 * (401/404) is logged and retried slowly, never crashing the server.
 */
const LEASE = "telegram.poller";
const OFFSET_KEY = "telegram.offset";
const OUTBOX_KEY = "telegram.outbox_seq";
const LEASE_MS = 40_000;

export interface TelegramRuntime {
  bot: TelegramBot;
  /** Updates handled since start. */
  handled(): number;
  stop(): Promise<void>;
}

export interface TelegramOptions {
  /** Lease holder name (default host:pid:random). */
  holder?: string;
  leaseMs?: number;
}

export async function startTelegram(
  services: Services,
  config: TelegramConfig,
  logger: Logger,
  options: TelegramOptions = {},
): Promise<TelegramRuntime> {
  const { ctx } = services;
  ctx.redactor.add(config.token);
  const bot = new TelegramBot(services, config, logger);
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const leaseMs = options.leaseMs ?? LEASE_MS;
  const stop = new AbortController();
  let handled = 0;
  let holding = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      stop.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      });
    });

  const poll = async () => {
    let failures = 0;
    let initialised = false;
    let renewedAt = 0;
    let offset = 0;
    while (!stop.signal.aborted) {
      try {
        // Renew a third of the way through the lease; between renewals no other process can hold it.
        if (!holding || Date.now() - renewedAt > leaseMs / 3) {
          const was = holding;
          holding = await takeLease(ctx.store.db, LEASE, holder, leaseMs);
          renewedAt = Date.now();
          if (!holding) {
            await sleep(Math.min(5_000, leaseMs / 4));
            continue;
          }
          // Newly the poller: continue from where the last one stopped.
          if (!was) offset = (await readSetting<number>(ctx.store.db, OFFSET_KEY)) ?? 0;
        }
        if (!initialised) {
          await bot.init(stop.signal);
          initialised = true;
          logger.info("telegram bot polling", { bot: bot.bot.botInfo.username, holder });
        }
        const updates = await bot.bot.api.getUpdates(
          { offset, timeout: config.pollSeconds, allowed_updates: ["message", "callback_query"] },
          stop.signal as never,
        );
        failures = 0;
        for (const update of updates) {
          if (stop.signal.aborted) break;
          await bot.handle(update);
          handled++;
          offset = update.update_id + 1;
          await writeSetting(ctx.store.db, OFFSET_KEY, offset, new Date().toISOString());
        }
      } catch (error) {
        if (stop.signal.aborted) break;
        failures++;
        holding = false; // take the lease (and the stored offset) afresh after a failure
        const rejected =
          error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
        const wait = rejected ? 60_000 : backoff(failures, 1_000, 60_000, noJitter);
        logger.warn(rejected ? "telegram rejected the bot token" : "telegram polling failed; backing off", {
          error: describe(error),
          wait_ms: wait,
        });
        await sleep(wait);
      }
    }
  };

  const outbox = async () => {
    let cursor = (await readSetting<number>(ctx.store.db, OUTBOX_KEY)) ?? (await services.audit.headSeq());
    while (!stop.signal.aborted) {
      try {
        if (holding) {
          const head = await services.audit.headSeq();
          const { events, through } = await services.audit.feed(cursor, head, 200, { role: "admin" });
          for (const event of events) {
            if (event.type !== "chat.message") continue;
            await forward(services, bot, String((event.data as { message_id?: unknown }).message_id ?? ""));
          }
          if (through !== cursor) {
            cursor = through;
            await writeSetting(ctx.store.db, OUTBOX_KEY, cursor, new Date().toISOString());
          }
        } else {
          // Not the poller: keep up with the head so a takeover does not resend old news.
          cursor = Math.max(cursor, (await readSetting<number>(ctx.store.db, OUTBOX_KEY)) ?? cursor);
        }
      } catch (error) {
        if (stop.signal.aborted) break;
        logger.warn("telegram outbox failed; retrying", { error: describe(error) });
        await sleep(2_000);
      }
      await ctx.store.bus.wait(cursor, Math.min(ctx.store.missedWakeupPollMs, 5_000), stop.signal);
    }
  };

  const running = Promise.all([poll(), outbox()]).catch((error: unknown) =>
    logger.error("telegram stopped", { error: describe(error) }),
  );
  return {
    bot,
    handled: () => handled,
    stop: async () => {
      stop.abort();
      await running;
      await releaseLease(ctx.store.db, LEASE, holder).catch(() => {});
    },
  };
}

/** Sends one chat message into the Telegram chats that talk to its chat, when it is run news. */
async function forward(services: Services, bot: TelegramBot, messageId: string): Promise<void> {
  const row = await services.ctx.store.db
    .selectFrom("chat_messages")
    .selectAll()
    .where("id", "=", messageId)
    .executeTakeFirst();
  if (row?.role !== "system") return;
  const message = toMessage(row);
  const runNews =
    message.kind === "result" ||
    (message.kind === "error" && message.data?.run_id !== undefined) ||
    (message.kind === "progress" && message.data?.event === "run.started");
  if (!runNews) return;
  for (const target of await bot.telegramChatsOf(message.chat_id)) await bot.send(target, message.text);
}

function describe(error: unknown): string {
  if (error instanceof GrammyError) return `${error.method}: ${error.error_code} ${error.description}`;
  if (error instanceof HttpError) return `network: ${String(error.error)}`;
  return String(error);
}
