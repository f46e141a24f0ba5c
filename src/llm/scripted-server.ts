import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CompletionContext,
  completionBody,
  completionChunks,
  type ScriptedReply,
} from "./scripted-replies.ts";

export type { ScriptedReply, ScriptedToolCall } from "./scripted-replies.ts";

/**
 * A scripted OpenAI-compatible model server: a real `node:http` server on 127.0.0.1 speaking
 * `POST /v1/chat/completions` (JSON, or SSE with `stream: true`) and `GET /v1/models`. Each
 * completion request takes the next reply from the script queue, else asks `respond`; with
 * neither it answers 500 "script exhausted". Every completion request body is kept in `requests`,
 * so a test can assert on exactly what the model was shown. Used by tests and by `gimo demo`.
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
    if (req.method !== "POST" || !path.endsWith("/chat/completions")) {
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
      method: req.method,
      path,
      headers: { ...req.headers },
      body,
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
    const ctx: CompletionContext = {
      id: `chatcmpl-scripted-${String(served).padStart(6, "0")}`,
      model: body.model ?? models[0] ?? "scripted-model",
      created: Math.floor(Date.now() / 1000),
      promptTokens: Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4)),
    };
    if (body.stream) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        ...reply.headers,
      });
      for (const data of completionChunks(ctx, reply, body.stream_options?.include_usage === true)) {
        res.write(`data: ${data}\n\n`);
      }
      return void res.end();
    }
    sendJson(res, 200, completionBody(ctx, reply), reply.headers);
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
