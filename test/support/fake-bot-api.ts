import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small fake Telegram Bot API over real HTTP, for the Telegram suite and bench: GIMO's bot (grammY)
 * talks to it through TELEGRAM_API_ROOT exactly as to api.telegram.org. It serves
 * `/bot<token>/<method>` for getMe, getUpdates (long polling: answers at once when updates at or
 * after `offset` are queued, else when one arrives or `timeout` passes), sendMessage,
 * sendDocument (multipart), answerCallbackQuery and editMessageReplyMarkup; it records every call
 * with its parameters and time; and it can answer the next call of a method with a 429 and a
 * `retry_after`. A wrong token is answered 401 like the real API.
 */
export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
  status: number;
}

export interface FakeBotApi {
  url: string;
  token: string;
  calls: RecordedCall[];
  /** Queues a user's text message (a command or free text) in a chat; returns its update id. */
  sendText(from: { id: number; username?: string }, chatId: number, text: string): number;
  /** Queues a press of an inline button carrying `data`. */
  press(from: { id: number }, chatId: number, data: string, messageId?: number): number;
  /** The next `count` calls of `method` are answered 429 with `retry_after` seconds. */
  rateLimit(method: string, retryAfter: number, count?: number): void;
  /** Messages sent into a chat (sendMessage texts and sendDocument captions), oldest first. */
  sent(chatId: number): RecordedCall[];
  /** Updates not yet confirmed by a later getUpdates offset. */
  pendingUpdates(): number;
  close(): Promise<void>;
}

export async function startFakeBotApi(
  token = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz",
): Promise<FakeBotApi> {
  const calls: RecordedCall[] = [];
  let updates: { update_id: number; [k: string]: unknown }[] = [];
  let nextUpdate = 1;
  let nextMessage = 1;
  const limits = new Map<string, { retryAfter: number; count: number }>();
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };

  const record = (method: string, params: Record<string, unknown>, status: number) =>
    calls.push({ method, params, at: Date.now(), status });

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const readParams = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const type = req.headers["content-type"] ?? "";
    if (body.length === 0) return {};
    if (type.startsWith("application/json")) return JSON.parse(body.toString("utf8"));
    if (type.startsWith("multipart/form-data")) {
      const form = await new Response(body, { headers: { "content-type": type } }).formData();
      const out: Record<string, unknown> = {};
      for (const [k, v] of form.entries()) {
        if (typeof v === "string") {
          try {
            out[k] = JSON.parse(v);
          } catch {
            out[k] = v;
          }
        } else out[k] = { file: v.name, text: await v.text() };
      }
      // grammY names a file part and points at it with "attach://<name>"
      for (const [k, v] of Object.entries(out)) {
        if (typeof v === "string" && v.startsWith("attach://")) out[k] = out[v.slice("attach://".length)];
      }
      return out;
    }
    return Object.fromEntries(new URLSearchParams(body.toString("utf8")));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url ?? "/", "http://x").pathname);
    if (!match) return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    const [, tok, method] = match as unknown as [string, string, string];
    const params = await readParams(req);
    if (tok !== token) {
      record(method, params, 401);
      return reply(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
    }
    const limit = limits.get(method);
    if (limit && limit.count > 0) {
      limit.count--;
      record(method, params, 429);
      return reply(res, 429, {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${limit.retryAfter}`,
        parameters: { retry_after: limit.retryAfter },
      });
    }
    record(method, params, 200);
    switch (method) {
      case "getMe":
        return reply(res, 200, {
          ok: true,
          result: {
            id: 999,
            is_bot: true,
            first_name: "GIMO",
            username: "gimo_test_bot",
            can_join_groups: true,
            can_read_all_group_messages: false,
            supports_inline_queries: false,
          },
        });
      case "getUpdates": {
        const offset = Number(params.offset ?? 0);
        updates = updates.filter((u) => u.update_id >= offset);
        const timeoutMs = Math.min(Number(params.timeout ?? 0), 30) * 1000;
        if (updates.length === 0 && timeoutMs > 0) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            };
            const timer = setTimeout(done, timeoutMs);
            waiters.add(done);
            req.once("close", done);
          });
        }
        return reply(res, 200, {
          ok: true,
          result: updates.filter((u) => u.update_id >= offset).slice(0, 100),
        });
      }
      case "sendMessage":
      case "sendDocument": {
        const message_id = nextMessage++;
        return reply(res, 200, {
          ok: true,
          result: {
            message_id,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(params.chat_id), type: "private" },
            text: params.text ?? "",
          },
        });
      }
      case "answerCallbackQuery":
      case "editMessageReplyMarkup":
      case "deleteWebhook":
        return reply(res, 200, { ok: true, result: true });
      default:
        return reply(res, 404, { ok: false, error_code: 404, description: `Not Found: method ${method}` });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) =>
      reply(res, 500, { ok: false, error_code: 500, description: String(error) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const push = (body: Record<string, unknown>) => {
    const update_id = nextUpdate++;
    updates.push({ update_id, ...body });
    wake();
    return update_id;
  };
  const user = (from: { id: number; username?: string }) => ({
    id: from.id,
    is_bot: false,
    first_name: `user${from.id}`,
    ...(from.username ? { username: from.username } : {}),
  });

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    calls,
    sendText: (from, chatId, text) => {
      const entities = text.startsWith("/")
        ? [{ type: "bot_command", offset: 0, length: text.split(/\s/)[0]?.length ?? 1 }]
        : undefined;
      return push({
        message: {
          message_id: nextMessage++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: "private" },
          from: user(from),
          text,
          ...(entities ? { entities } : {}),
        },
      });
    },
    press: (from, chatId, data, messageId = 1) =>
      push({
        callback_query: {
          id: `cb${nextUpdate}`,
          from: user(from),
          chat_instance: "ci",
          data,
          message: {
            message_id: messageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: chatId, type: "private" },
            text: "plan",
          },
        },
      }),
    rateLimit: (method, retryAfter, count = 1) => limits.set(method, { retryAfter, count }),
    sent: (chatId) =>
      calls.filter(
        (c) =>
          (c.method === "sendMessage" || c.method === "sendDocument") &&
          c.status === 200 &&
          Number(c.params.chat_id) === chatId,
      ),
    pendingUpdates: () => updates.length,
    close: async () => {
      wake();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
