/**
 * The UI's HTTP client: `fetch` on the UI's own origin with the session's bearer token in the
 * `Authorization` header (never in a URL or a cookie). Every error answer of the API has the shape
 * `{"error":{"code","message"}}`; it becomes an `ApiError` the pages show as it is. A 401 ends
 * the session (the token was revoked or expired) and sends the user to sign-in.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

type Unauthorized = () => void;
let onUnauthorized: Unauthorized = () => {};
let currentToken: string | null = null;

export function configureClient(token: string | null, unauthorized: Unauthorized): void {
  currentToken = token;
  onUnauthorized = unauthorized;
}

export function authHeaders(token = currentToken): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = {
    accept: "application/json",
    ...authHeaders(opts.token ?? currentToken),
  };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "network", "GIMO did not answer: is the server running?");
  }
  const text = await res.text();
  const json = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && opts.token === undefined) onUnauthorized();
    throw new ApiError(
      res.status,
      err?.code ?? "http_error",
      err?.message ?? `${res.status} ${res.statusText}`,
    );
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const get = <T>(path: string, signal?: AbortSignal) => api<T>("GET", path, undefined, { signal });
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, body ?? {});
export const put = <T>(path: string, body: unknown) => api<T>("PUT", path, body);
export const patch = <T>(path: string, body: unknown) => api<T>("PATCH", path, body);
export const del = <T>(path: string) => api<T>("DELETE", path);

/** A query string from the defined values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : "";
}
