import { GimoError } from "../core/errors.ts";
import type { Usage } from "./port.ts";

/**
 * The typed failures of a model call. Messages are written for a person and never contain a secret
 * (adapters redact the resolved API key before building them).
 *
 * | error                     | code          | HTTP | a later attempt may succeed |
 * |---------------------------|---------------|------|-----------------------------|
 * | `ProviderUnavailable`     | `unavailable` | 503  | yes: down, timed out, 5xx   |
 * | `ProviderRateLimited`     | `rate_limited`| 429  | yes, after `retryAfterSeconds` |
 * | `ProviderRejected`        | `unavailable` | 503  | no: bad key, unknown model, bad request |
 * | `StructuredOutputInvalid` | `unprocessable`| 422 | maybe: the model answered, but not in shape |
 */
export class ProviderUnavailable extends GimoError {
  readonly provider: string;
  readonly retryable = true;

  constructor(provider: string, message: string, details?: Record<string, unknown>) {
    super("unavailable", `model provider ${provider} is unavailable: ${message}`, { provider, ...details });
    this.name = "ProviderUnavailable";
    this.provider = provider;
  }
}

export class ProviderRateLimited extends GimoError {
  readonly provider: string;
  readonly retryable = true;
  /** When the provider said when to come back (Retry-After); undefined when it did not. */
  readonly retryAfterSeconds: number | undefined;

  constructor(provider: string, retryAfterSeconds: number | undefined, message: string) {
    super("rate_limited", `model provider ${provider} is rate limited: ${message}`, {
      provider,
      retry_after_seconds: retryAfterSeconds,
    });
    this.name = "ProviderRateLimited";
    this.provider = provider;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class ProviderRejected extends GimoError {
  readonly provider: string;
  readonly retryable = false;
  readonly httpStatus: number | undefined;

  constructor(provider: string, httpStatus: number | undefined, message: string) {
    super("unavailable", `model provider ${provider} rejected the request: ${message}`, {
      provider,
      http_status: httpStatus,
    });
    this.name = "ProviderRejected";
    this.provider = provider;
    this.httpStatus = httpStatus;
  }
}

/** The model answered, but its answer is not JSON or does not match the schema. */
export class StructuredOutputInvalid extends GimoError {
  readonly raw: string;
  /** A readable list of what is wrong, fit to show back to the model. */
  readonly problem: string;
  readonly usage: Usage;

  constructor(schemaName: string, problem: string, raw: string, usage: Usage) {
    super("unprocessable", `the model's ${schemaName} is invalid: ${problem}`, {
      problem,
      raw: raw.length > 2_000 ? `${raw.slice(0, 2_000)}…` : raw,
    });
    this.name = "StructuredOutputInvalid";
    this.raw = raw;
    this.problem = problem;
    this.usage = usage;
  }
}

export type ProviderError = ProviderUnavailable | ProviderRateLimited | ProviderRejected;

export function isProviderError(error: unknown): error is ProviderError {
  return (
    error instanceof ProviderUnavailable ||
    error instanceof ProviderRateLimited ||
    error instanceof ProviderRejected
  );
}
