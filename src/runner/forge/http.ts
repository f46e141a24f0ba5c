/**
 * The one way GIMO talks to a forge's HTTP API: JSON over `fetch`, with a timeout, errors that are
 * typed and readable, and two rules enforced here rather than trusted to callers:
 *
 *  - only GET and POST, and never a path ending in `/merge` (GitHub's and Gitea's
 *    `…/pulls/{n}/merge`, GitLab's `…/merge_requests/{iid}/merge`): GIMO opens draft pull requests,
 *    it never merges one;
 *  - the token appears in the request's auth header and nowhere else: not in a URL, not in an
 *    error message (every message has the token cut out, in case a server echoes it).
 *
 * Errors (`ForgeError.failure`): `forge_auth` (401/403), `forge_not_found` (404), `forge_rejected`
 * (400/409/422 — the forge's own explanation attached), `forge_rate_limited` (429, or a 403 with
 * the rate limit spent), `forge_unavailable` (5xx, network), `forge_timeout`, `forge_bad_response`
 * (not the JSON expected), `forge_config` (nothing to call: no token, no repository).
 * `retryable` is true for the rate limit, 5xx, network errors and timeouts (core/run-failures.ts).
 */
import { type ErrorCode, GimoError } from "../../core/errors.ts";
import { runFailures } from "../../core/run-failures.ts";

export type ForgeKind = "github" | "gitlab" | "gitea";

export type ForgeErrorCode =
  | "forge_auth"
  | "forge_not_found"
  | "forge_rejected"
  | "forge_rate_limited"
  | "forge_unavailable"
  | "forge_timeout"
  | "forge_bad_response"
  | "forge_config"
  | "forge_refused";

/** How each forge failure reads in GIMO's error family (and over HTTP, were it ever answered). */
const familyCode: Record<ForgeErrorCode, ErrorCode> = {
  forge_auth: "forbidden",
  forge_not_found: "not_found",
  forge_rejected: "unprocessable",
  forge_rate_limited: "rate_limited",
  forge_unavailable: "unavailable",
  forge_timeout: "unavailable",
  forge_bad_response: "unavailable",
  forge_config: "unprocessable",
  forge_refused: "forbidden",
};

/**
 * A forge call that failed: a `GimoError` (its `code` the family's, e.g. `unavailable`) carrying
 * the forge's own failure code as `failure` — the run-failure code the run ends with
 * (core/run-failures.ts) — the forge's HTTP status, and whether retrying may help.
 */
export class ForgeError extends GimoError {
  readonly failure: ForgeErrorCode;
  readonly forge: ForgeKind;
  readonly forgeStatus: number | undefined;
  readonly retryable: boolean;

  constructor(failure: ForgeErrorCode, forge: ForgeKind, message: string, forgeStatus?: number) {
    super(familyCode[failure], message, { failure, forge, ...(forgeStatus ? { status: forgeStatus } : {}) });
    this.name = "ForgeError";
    this.failure = failure;
    this.forge = forge;
    this.forgeStatus = forgeStatus;
    this.retryable = runFailures[failure].retryable;
  }
}

export interface ForgeClient {
  kind: ForgeKind;
  root: string;
  headers: Record<string, string>;
  token: string;
  timeoutMs: number;
}

export interface ForgeResponse {
  status: number;
  body: unknown;
}

/** Calls the forge; answers 2xx responses, and those in `accept`; throws a ForgeError otherwise. */
export async function forgeRequest(
  client: ForgeClient,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  accept: number[] = [],
): Promise<ForgeResponse> {
  if ((method !== "GET" && method !== "POST") || /\/merge\/?(\?|$)/.test(path)) {
    throw new ForgeError("forge_refused", client.kind, `refusing ${method} ${path}: GIMO never merges`);
  }
  const what = `${method} ${path.split("?")[0]}`;
  let response: Response;
  try {
    response = await fetch(client.root + path, {
      method,
      headers: { ...client.headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: "error",
      signal: AbortSignal.timeout(client.timeoutMs),
    });
  } catch (error) {
    const timedOut = (error as Error).name === "TimeoutError";
    throw new ForgeError(
      timedOut ? "forge_timeout" : "forge_unavailable",
      client.kind,
      redact(
        `${client.kind}: ${what} ${timedOut ? `timed out after ${client.timeoutMs} ms` : `failed: ${causeOf(error)}`}`,
        client.token,
      ),
    );
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: kept as text for the message.
  }
  if (response.ok || accept.includes(response.status)) return { status: response.status, body: parsed };
  const detail = redact(serverMessage(parsed), client.token);
  const message = `${client.kind}: ${what} answered ${response.status}${detail ? `: ${detail}` : ""}`;
  throw new ForgeError(codeOf(response), client.kind, message, response.status);
}

function codeOf(response: Response): ForgeErrorCode {
  const s = response.status;
  if (s === 429 || (s === 403 && response.headers.get("x-ratelimit-remaining") === "0"))
    return "forge_rate_limited";
  if (s === 401 || s === 403) return "forge_auth";
  if (s === 404) return "forge_not_found";
  if (s >= 500) return "forge_unavailable";
  return "forge_rejected";
}

/** The forge's explanation: GitHub `message` + `errors[].message`, GitLab `message`/`error`, Gitea `message`. */
export function serverMessage(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 300);
  if (!body || typeof body !== "object") return "";
  const b = body as { message?: unknown; error?: unknown; errors?: unknown };
  const parts: string[] = [];
  for (const v of [b.message, b.error])
    if (v !== undefined) parts.push(typeof v === "string" ? v : JSON.stringify(v));
  if (Array.isArray(b.errors)) {
    for (const e of b.errors)
      parts.push(typeof e === "string" ? e : ((e as { message?: string }).message ?? JSON.stringify(e)));
  }
  return parts.join("; ").slice(0, 500);
}

function redact(text: string, token: string): string {
  return token.length >= 4 ? text.split(token).join("[redacted]") : text;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
