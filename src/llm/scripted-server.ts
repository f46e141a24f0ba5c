import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CompletionContext,
  completionBody,
  completionChunks,
  type ScriptedReply,
} from "./scripted-replies.ts";
import {
  apiOf,
  geminiBody,
  geminiEvents,
  messagesBody,
  messagesEvents,
  responsesBody,
  responsesEvents,
  type ScriptedApi,
  type ScriptedTurn,
  type SseEvent,
  turnOf,
} from "./scripted-wire.ts";

export type { ScriptedReply, ScriptedToolCall } from "./scripted-replies.ts";
export type { ScriptedApi, ScriptedTurn } from "./scripted-wire.ts";

/**
 * A scripted model server: a real `node:http` server on 127.0.0.1 speaking
 * `POST /v1/chat/completions` (JSON, or SSE with `stream: true`) and `GET /v1/models` — and, for
 * the coding-agent CLIs, the same replies as the OpenAI Responses API (`POST /v1/responses`),
 * Anthropic Messages (`POST /v1/messages`, and `/v1/messages/count_tokens`) and Gemini
 * (`POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent`, `:countTokens`); see
 * scripted-wire.ts. Each completion request takes the next reply from the script queue, else asks
 * `respond`; with neither it answers 500 "script exhausted". Every completion request is kept in
 * `requests` with its dialect and a `turn` (tools offered, tool outputs so far), so a test can
 * assert on exactly what the model was shown. Used by tests and by `gimo demo`.
 *
 *   const model = await startScriptedModel({ script: [{ json: plan }] });
 *   createProvider({ type: "openai_compat", base_url: model.url, model: "scripted" });
 *   model.requests[0].body.messages; await model.close();
 */
export interface ChatCompletionBody {
  model?: string;
  messages?: Array<{ role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string }>;
  tools?: unknown[];
  tool_choice?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: ChatCompletionBody;
  /** The dialect it spoke (`chat` for chat completions). */
  api: ScriptedApi;
  /** The tools offered and the tool outputs so far, read the same way for every dialect. */
  turn: ScriptedTurn;
  receivedAt: number;
}

export type ScriptedResponder = (
  request: ReceivedRequest,
) => ScriptedReply | undefined | Promise<ScriptedReply | undefined>;

export interface ScriptedModelOptions {
  script?: ScriptedReply[];
  respond?: ScriptedResponder;
  /** Ids listed by `GET /v1/models`; default `["scripted-model"]`. */
  models?: string[];
  host?: string;
  port?: number;
}

export interface ScriptedModel {
  /** Base URL for an openai_compat provider, e.g. `http://127.0.0.1:41234/v1`. */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  push(...replies: ScriptedReply[]): void;
  /** Replies still queued. */
  pending(): number;
  close(): Promise<void>;
}

export async function startScriptedModel(options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const queue = [...(options.script ?? [])];
  const requests: ReceivedRequest[] = [];
  const models = options.models ?? ["scripted-model"];
  let served = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method === "GET" && path.endsWith("/models")) {
      const data = models.map((id) => ({ id, object: "model", created: 0, owned_by: "gimo-scripted" }));
      return sendJson(res, 200, { object: "list", data });
    }
    const api = req.method === "POST" ? apiOf(path) : undefined;
    if (req.method === "POST" && /\/count_tokens$|:countTokens$/.test(path)) {
      const size = Math.max(1, Math.ceil((await readBody(req)).length / 4));
      return sendJson(
        res,
        200,
        path.endsWith("count_tokens") ? { input_tokens: size } : { totalTokens: size },
      );
    }
    if (!api) {
      return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: "not_found" } });
    }
    let body: ChatCompletionBody;
    try {
      body = JSON.parse(await readBody(req)) as ChatCompletionBody;
    } catch {
      return sendJson(res, 400, {
        error: { message: "request body is not JSON", type: "invalid_request_error" },
      });
    }
    const request: ReceivedRequest = {
      method: req.method ?? "POST",
      path,
      headers: { ...req.headers },
      body,
      api,
      turn: turnOf(api, body),
      receivedAt: Date.now(),
    };
    requests.push(request);
    const reply = queue.shift() ?? (await options.respond?.(request));
    if (reply === undefined) {
      return sendJson(res, 500, {
        error: { message: "script exhausted: no reply queued", type: "server_error" },
      });
    }
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (reply.hangUp) return void req.socket.destroy();
    if (res.destroyed) return;
    if (reply.status !== undefined && reply.status >= 400) return sendError(res, reply);
    served++;
    const model = /\/models\/([^/:]+):/.exec(path)?.[1] ?? body.model;
    const ctx: CompletionContext = {
      id: `chatcmpl-scripted-${String(served).padStart(6, "0")}`,
      model: model ?? models[0] ?? "scripted-model",
      created: Math.floor(Date.now() / 1000),
      promptTokens: Math.max(
        1,
        Math.ceil(JSON.stringify(body.messages ?? body.input ?? body.contents ?? []).length / 4),
      ),
    };
    const streamed = api === "gemini" ? /:streamGenerateContent$/i.test(path) : body.stream === true;
    if (!streamed) {
      const answer =
        api === "chat"
          ? completionBody(ctx, reply)
          : api === "responses"
            ? responsesBody(ctx, reply)
            : api === "messages"
              ? messagesBody(ctx, reply)
              : geminiBody(ctx, reply);
      return sendJson(res, 200, answer, reply.headers);
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      ...reply.headers,
    });
    const events: SseEvent[] =
      api === "chat"
        ? completionChunks(ctx, reply, body.stream_options?.include_usage === true).map((data) => ({ data }))
        : api === "responses"
          ? responsesEvents(ctx, reply)
          : api === "messages"
            ? messagesEvents(ctx, reply)
            : geminiEvents(ctx, reply);
    for (const e of events) {
      const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
      res.write(`${e.event ? `event: ${e.event}\n` : ""}data: ${data}\n\n`);
    }
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: "server_error" } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/v1`,
    port,
    requests,
    push: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendError(res: ServerResponse, reply: ScriptedReply): void {
  const status = reply.status ?? 500;
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.retryAfter !== undefined) headers["retry-after"] = String(reply.retryAfter);
  const body = reply.error ?? { error: { message: `scripted error ${status}`, type: "scripted_error" } };
  sendJson(res, status, body, headers);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
