import { z } from "@hono/zod-openapi";

/**
 * How a planner or executor model is reached (SPEC §8). String values may hold `${VAR}` references
 * (src/secrets/references.ts), resolved at call time; an adapter only ever sees the resolved config.
 *
 * `openai_compat` is one adapter for OpenAI, Ollama, LM Studio, vLLM and llama.cpp: `base_url`
 * decides which. `agent_cli` is not a model API: the runner runs the CLI (`options.command`).
 */
export const providerTypes = ["openai_compat", "anthropic", "gemini", "agent_cli"] as const;
export type ProviderType = (typeof providerTypes)[number];

export const ProviderOptions = z
  .object({
    timeout_ms: z.number().int().min(100).max(3_600_000).optional(),
    max_retries: z.number().int().min(0).max(10).optional(),
    retry_base_ms: z.number().int().min(1).max(60_000).optional(),
    retry_max_ms: z.number().int().min(1).max(600_000).optional(),
    max_retry_wait_ms: z.number().int().min(0).max(3_600_000).optional(),
    stream: z.boolean().optional(),
    stream_usage: z.boolean().optional(),
    json_mode: z.enum(["json_object", "json_schema", "none"]).optional(),
    tool_choice: z.enum(["auto", "required", "none"]).optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_output_tokens: z.number().int().min(1).max(1_000_000).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    command: z.string().min(1).max(4_000).optional(),
    args: z.array(z.string().max(4_000)).max(100).optional(),
    cli: z.enum(["claude", "codex", "gemini", "opencode", "qwen"]).optional(),
    max_concurrent_runs: z.number().int().min(1).max(1_000).optional(),
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
  })
  .strict()
  .openapi("ProviderOptions", {
    description:
      "timeout_ms (per attempt, default 120000); max_retries (default 3) with jittered exponential backoff " +
      "from retry_base_ms (500) capped at retry_max_ms (20000); a rate limit asking to wait longer than " +
      "max_retry_wait_ms (60000) fails at once; stream (default false); stream_usage (openai_compat, default " +
      "true); json_mode (openai_compat: json_object by default, json_schema, or none); tool_choice is sent " +
      "only when set (Ollama rejects it); max_concurrent_runs (executor: runs at once across projects, default 4); command/args/cli/api_key_env for agent_cli (cli: claude, codex, gemini, opencode or qwen).",
  });
export type ProviderOptions = z.infer<typeof ProviderOptions>;

export const ProviderConfig = z
  .object({
    type: z.enum(providerTypes),
    base_url: z.string().min(1).max(2_000).optional(),
    model: z.string().min(1).max(200),
    api_key: z.string().min(1).max(10_000).optional(),
    options: ProviderOptions.optional(),
  })
  .strict()
  .openapi("ProviderConfig");
export type ProviderConfig = z.infer<typeof ProviderConfig>;

export const defaultBaseUrls: Record<Exclude<ProviderType, "agent_cli">, string> = {
  openai_compat: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  gemini: "https://generativelanguage.googleapis.com/v1beta",
};

/** Effective call settings with every default applied. */
export interface CallSettings {
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxRetryWaitMs: number;
  stream: boolean;
}

export function callSettings(options: ProviderOptions | undefined): CallSettings {
  return {
    timeoutMs: options?.timeout_ms ?? 120_000,
    maxRetries: options?.max_retries ?? 3,
    retryBaseMs: options?.retry_base_ms ?? 500,
    retryMaxMs: options?.retry_max_ms ?? 20_000,
    maxRetryWaitMs: options?.max_retry_wait_ms ?? 60_000,
    stream: options?.stream ?? false,
  };
}

/**
 * A base URL fit to show: no user-info, no query (either may carry a credential). Invalid URLs are
 * shown as a placeholder rather than echoed.
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/$/, "")}`;
  } catch {
    return "<invalid url>";
  }
}

/**
 * A provider config fit for `GET /ops/provider`: a `${VAR}` reference is shown as written (it names
 * a secret, it is not one); a literal API key or header value is replaced by `[redacted]`.
 */
export function publicProviderConfig(config: ProviderConfig): ProviderConfig {
  const hide = (value: string) => (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value) ? value : "[redacted]");
  const headers = config.options?.headers;
  return {
    ...config,
    ...(config.base_url === undefined || config.base_url.includes("${")
      ? {}
      : { base_url: displayUrl(config.base_url) }),
    ...(config.api_key === undefined ? {} : { api_key: hide(config.api_key) }),
    ...(config.options === undefined
      ? {}
      : {
          options: {
            ...config.options,
            ...(headers === undefined
              ? {}
              : { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, hide(v)])) }),
          },
        }),
  };
}
