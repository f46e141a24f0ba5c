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
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { signal?: AbortSignal; extraTimeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<ClientResponse<T>> {
    const timeout = AbortSignal.timeout(this.#timeoutMs + (opts.extraTimeoutMs ?? 0));
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, ...opts.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.#baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    let parsed: unknown;
    if (text) {
      try {
        parsed = JSON.parse(text);
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
