import http from "node:http";
import https from "node:https";

/**
 * The HTTP client every remote operator uses (CLI, remote runner, MCP bridge): base URL, bearer
 * token, JSON in and out, and GIMO's error shape turned into `GimoClientError`.
 */
export class GimoClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = "GimoClientError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface ClientOptions {
  baseUrl: string;
  token: string;
  /** Per-request timeout (default 30 s; long polls add their own wait). */
  timeoutMs?: number;
}

export interface ClientResponse<T> {
  status: number;
  body: T | undefined;
}

export class GimoHttpClient {
  readonly #baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    const { protocol } = new URL(this.#baseUrl);
    if (protocol !== "http:" && protocol !== "https:")
      throw new Error(`the server URL must be http:// or https:// (got ${protocol}//)`);
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { signal?: AbortSignal; extraTimeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<ClientResponse<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, ...opts.headers };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const res = await exchange(new URL(`${this.#baseUrl}${path}`), method, headers, payload, {
      signal: opts.signal,
      timeoutMs: this.#timeoutMs + (opts.extraTimeoutMs ?? 0),
    });
    let parsed: unknown;
    if (res.text) {
      try {
        parsed = JSON.parse(res.text);
      } catch {
        parsed = undefined;
      }
    }
    if (res.status >= 400) {
      const err = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)
        ?.error;
      throw new GimoClientError(
        res.status,
        err?.code ?? "http_error",
        err?.message ?? `HTTP ${res.status}`,
        err?.details,
      );
    }
    return { status: res.status, body: parsed as T | undefined };
  }
}

/**
 * Connections are kept alive and reused: a runner makes a request per run, and `node:http` with a
 * keep-alive agent costs a third of the CPU of `fetch` per request (measured in the queue bench).
 * Idle sockets do not keep the process alive, and the agent retires a socket before the server's
 * advertised keep-alive timeout, so a request never lands on a socket the server is closing.
 */
const httpAgent = new http.Agent({ keepAlive: true });
const httpsAgent = new https.Agent({ keepAlive: true });

/** One request and its whole response body; rejects on a transport error, an abort or the timeout. */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  opts: { signal?: AbortSignal; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === "https:";
    const agent = secure ? httpsAgent : httpAgent;
    const req = (secure ? https : http).request(
      url,
      { method, headers, agent, signal: opts.signal },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text });
        });
        res.on("error", fail);
      },
    );
    const timer = setTimeout(() => {
      const timeout = new Error(`no answer from ${url.origin} within ${opts.timeoutMs} ms`);
      timeout.name = "TimeoutError";
      req.destroy(timeout);
    }, opts.timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on("error", fail);
    req.end(payload);
  });
}
