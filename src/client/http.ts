import http from "node:http";
import https from "node:https";

/**
 * The transport under the typed client (client.ts): base URL, bearer token, JSON in and out, and
 * GIMO's error shape turned into `GimoClientError`. By default it speaks `node:http` with keep-alive
 * agents; given a `fetch` it uses that instead — the MCP server passes one that calls the Hono app
 * in-process, and a browser or test can pass its own.
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

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  baseUrl: string;
  token: string;
  /** Per-request timeout (default 30 s; long polls add their own wait). */
  timeoutMs?: number;
  /** Used for every request instead of `node:http` (and for event streams instead of global fetch). */
  fetch?: FetchLike;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  extraTimeoutMs?: number;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  body: unknown;
}

export class Transport {
  readonly baseUrl: string;
  readonly token: string;
  readonly fetch: FetchLike | undefined;
  readonly #timeoutMs: number;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    let protocol: string;
    try {
      protocol = new URL(this.baseUrl).protocol;
    } catch {
      throw new GimoClientError(0, "bad_url", `not a URL: ${options.baseUrl}`);
    }
    if (protocol !== "http:" && protocol !== "https:")
      throw new GimoClientError(
        0,
        "bad_url",
        `the server URL must be http:// or https:// (got ${protocol}//)`,
      );
    this.token = options.token;
    this.fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  url(path: string, query?: RequestOptions["query"]): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  /** One call; the body parsed as JSON. Any status ≥ 400 throws `GimoClientError`. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...opts.headers };
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (payload !== undefined) headers["content-type"] = "application/json";
    const url = this.url(path, opts.query);
    const timeoutMs = this.#timeoutMs + (opts.extraTimeoutMs ?? 0);
    const res = this.fetch
      ? await viaFetch(this.fetch, url, method, headers, payload, opts.signal, timeoutMs)
      : await exchange(new URL(url), method, headers, payload, { signal: opts.signal, timeoutMs });
    let parsed: unknown;
    if (res.text) {
      try {
        parsed = JSON.parse(res.text);
      } catch {
        parsed = undefined;
      }
    }
    if (res.status >= 400) throw errorFrom(res.status, parsed);
    return { status: res.status, body: parsed };
  }
}

export function errorFrom(status: number, body: unknown): GimoClientError {
  const err =
    body && typeof body === "object" && "error" in body
      ? (body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error
      : undefined;
  return new GimoClientError(
    status,
    typeof err?.code === "string" ? err.code : "http_error",
    typeof err?.message === "string" ? err.message : `HTTP ${status}`,
    err?.details,
  );
}

async function viaFetch(
  fetch: FetchLike,
  url: string,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, {
    method,
    headers,
    body: payload,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  return { status: res.status, text: await res.text() };
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
    if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
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
