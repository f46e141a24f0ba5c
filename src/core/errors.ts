/**
 * One error family for the whole of GIMO. Every failure a client can cause or observe is a
 * `GimoError` with a stable string `code`; the HTTP operator maps codes to statuses in one place
 * (`statusOf`) and renders `{"error":{"code","message","details?"}}`.
 */
export const errorStatus = {
  validation_failed: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  approval_required: 403,
  distinct_approver_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  illegal_transition: 409,
  stale_version: 409,
  lease_lost: 409,
  idempotency_in_progress: 409,
  project_archived: 409,
  in_use: 409,
  run_active: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  idempotency_key_reused: 422,
  tests_required: 422,
  panic_mode: 423,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class GimoError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "GimoError";
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (kind: string, id: string) => new GimoError("not_found", `${kind} ${id} not found`);

export function isGimoError(error: unknown): error is GimoError {
  return error instanceof GimoError;
}
