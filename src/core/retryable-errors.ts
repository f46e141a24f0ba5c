/**
 * The error codes a later try may get past, said once (graphile-worker's `lib.ts` keeps the same
 * kind of table). A code is PostgreSQL's SQLSTATE or Node's / undici's system error code, and its
 * `kind` says what to do about it:
 *
 * | kind          | what happened                                  | who acts on it                          |
 * |---------------|------------------------------------------------|-----------------------------------------|
 * | `transaction` | PostgreSQL refused this transaction (serialization, deadlock) | the store runs it again at once (store/store.ts) |
 * | `connection`  | an open connection broke or was shut down      | HTTP answers 503 (operators/http/errors.ts) |
 * | `unreachable` | no connection could be made (refused, unknown host, no route) | HTTP 503; model calls retry once, then fail fast (llm/failure.ts); the CLI exits "unreachable" |
 */
export type RetryableKind = "transaction" | "connection" | "unreachable";

export const retryableErrors = {
  "40001": "transaction", // serialization_failure
  "40P01": "transaction", // deadlock_detected
  "57P01": "connection", // admin_shutdown
  "57P02": "connection", // crash_shutdown
  "57P03": "connection", // cannot_connect_now
  "08001": "connection", // sqlclient_unable_to_establish_sqlconnection
  "08003": "connection", // connection_does_not_exist
  "08006": "connection", // connection_failure
  ECONNRESET: "connection",
  ETIMEDOUT: "connection",
  EPIPE: "connection",
  ECONNREFUSED: "unreachable",
  ENOTFOUND: "unreachable",
  EAI_AGAIN: "unreachable",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  EADDRNOTAVAIL: "unreachable",
  UND_ERR_CONNECT_TIMEOUT: "unreachable",
} as const satisfies Record<string, RetryableKind>;

/** The kind of a code (an error's `code`, or the code itself), or undefined when no try gets past it. */
export function retryableKind(codeOrError: unknown): RetryableKind | undefined {
  const code =
    typeof codeOrError === "string" ? codeOrError : (codeOrError as { code?: unknown } | null)?.code;
  return typeof code === "string" && Object.hasOwn(retryableErrors, code)
    ? retryableErrors[code as keyof typeof retryableErrors]
    : undefined;
}
