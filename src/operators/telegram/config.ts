import { type Role, roles } from "../../core/roles.ts";

/**
 * Telegram's settings, parsed once from the environment:
 *
 *   TELEGRAM_BOT_TOKEN       the bot's token from BotFather (a secret: never logged or stored)
 *   TELEGRAM_API_ROOT        a non-default Bot API server (default https://api.telegram.org)
 *   TELEGRAM_ALLOWED_USERS   <telegram user id>:<role>,… — who may talk to the bot, and as what
 *                            (`actions` reads, `operator` plans/approves/runs, `admin` too; a
 *                            `runner` role is refused: it is for the runner protocol only)
 *
 * Anyone not listed gets a polite refusal (and an audit event). An empty list allows nobody.
 */
export interface TelegramConfig {
  token: string;
  apiRoot: string;
  allowed: ReadonlyMap<number, Role>;
  /** getUpdates long-poll seconds. */
  pollSeconds: number;
}

export const DEFAULT_API_ROOT = "https://api.telegram.org";

export function telegramConfigFrom(env: Record<string, string | undefined>): TelegramConfig | undefined {
  const token = env.TELEGRAM_BOT_TOKEN?.trim();
  if (!token) return undefined;
  if (!/^\d+:[A-Za-z0-9_-]{20,}$/.test(token)) {
    throw new Error(
      "TELEGRAM_BOT_TOKEN does not look like a bot token (<digits>:<35 characters>) — copy it from BotFather",
    );
  }
  const apiRoot = (env.TELEGRAM_API_ROOT?.trim() || DEFAULT_API_ROOT).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(apiRoot);
  } catch {
    throw new Error(`TELEGRAM_API_ROOT is not a URL: ${apiRoot}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new Error("TELEGRAM_API_ROOT must be http(s)");
  return { token, apiRoot, allowed: parseAllowedUsers(env.TELEGRAM_ALLOWED_USERS ?? ""), pollSeconds: 25 };
}

export function parseAllowedUsers(text: string): Map<number, Role> {
  const allowed = new Map<number, Role>();
  for (const entry of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^(\d{1,15}):([a-z]+)$/.exec(entry);
    if (!match) throw new Error(`TELEGRAM_ALLOWED_USERS: "${entry}" is not <user id>:<role>`);
    const role = match[2] as Role;
    if (!roles.includes(role) || role === "runner") {
      throw new Error(`TELEGRAM_ALLOWED_USERS: role "${match[2]}" must be actions, operator or admin`);
    }
    allowed.set(Number(match[1]), role);
  }
  return allowed;
}
