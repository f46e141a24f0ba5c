import { loadConfig } from "../../config.ts";
import { createGimo, type Gimo } from "../../gimo.ts";
import { telegramConfigFrom } from "./config.ts";
import type { TelegramRuntime } from "./poller.ts";

/**
 * Where the bot runs: inside `gimo serve` when TELEGRAM_BOT_TOKEN is set (`startTelegramIfConfigured`),
 * or alone with `gimo telegram` (`runTelegram`: the same core on the same database, no HTTP server,
 * no runner). Either way one process at a time polls (the lease in poller.ts).
 */
export async function startTelegramIfConfigured(
  gimo: Gimo,
  env: Record<string, string | undefined> = process.env,
): Promise<TelegramRuntime | undefined> {
  const config = telegramConfigFrom(env);
  if (!config) return undefined;
  if (config.allowed.size === 0) {
    gimo.logger.warn("TELEGRAM_ALLOWED_USERS is empty: the bot will refuse everyone");
  }
  // grammy and the bot load only when a bot is configured.
  const { startTelegram } = await import("./poller.ts");
  return startTelegram(gimo.services, config, gimo.logger);
}

export async function runTelegram(): Promise<number> {
  const config = telegramConfigFrom(process.env);
  if (!config) {
    process.stderr.write(
      "gimo telegram: set TELEGRAM_BOT_TOKEN (and TELEGRAM_ALLOWED_USERS=<id>:<role>,…)\n",
    );
    return 2;
  }
  const gimo = await createGimo({ ...loadConfig(process.env), embeddedRunners: 0 });
  const { startTelegram } = await import("./poller.ts");
  const bot = await startTelegram(gimo.services, config, gimo.logger);
  process.stdout.write(`GIMO Telegram bot started (storage: ${gimo.services.ctx.store.kind})\n`);
  return new Promise((done) => {
    const stop = async () => {
      await bot.stop();
      await gimo.close();
      done(0);
    };
    process.once("SIGINT", () => void stop());
    process.once("SIGTERM", () => void stop());
  });
}
