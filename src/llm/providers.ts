import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { GimoError } from "../core/errors.ts";
import { Redactor } from "../core/redactor.ts";
import { lazyPackage } from "../lazy-package.ts";
import { findReferences } from "../secrets/references.ts";
import { createModelProvider } from "./adapter.ts";
import { callSettings, defaultBaseUrls, displayUrl, type ProviderConfig } from "./config.ts";
import { ProviderRejected } from "./errors.ts";
import { anthropicModelIds, geminiModelIds, openAiModelIds, probeHealth } from "./health.ts";
import type { LlmProvider } from "./port.ts";
import type { RetryDeps } from "./retry.ts";

/** The SDKs load with the first provider built (lazy-package.ts): an idle server holds none. */
const openAiCompatible = lazyPackage<typeof import("@ai-sdk/openai-compatible")>("@ai-sdk/openai-compatible");
const anthropic = lazyPackage<typeof import("@ai-sdk/anthropic")>("@ai-sdk/anthropic");
const google = lazyPackage<typeof import("@ai-sdk/google")>("@ai-sdk/google");

/**
 * Builds the `LlmProvider` for a *resolved* provider config (every `${VAR}` already replaced; see
 * src/secrets/references.ts). Nothing here reads the environment: the AI SDK's fallbacks to
 * `OPENAI_API_KEY`-style variables are bypassed by always passing the key and base URL explicitly.
 */
export interface ProviderDeps extends RetryDeps {
  /** For tests or proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const healthTimeoutMs = 10_000;

export function createProvider(config: ProviderConfig, deps: ProviderDeps = {}): LlmProvider {
  if (config.type === "agent_cli") {
    throw new GimoError(
      "bad_request",
      "an agent_cli provider is a coding-agent CLI that the runner executes; it cannot be called as a model API",
    );
  }
  const unresolved = findReferences(config);
  if (unresolved.length > 0) {
    // Sending "${OPENAI_API_KEY}" as a key would fail confusingly; this is a wiring bug, say so.
    throw new GimoError(
      "internal",
      `provider config still refers to ${unresolved.join(", ")}: resolve it first`,
    );
  }
  const baseUrl = (config.base_url ?? defaultBaseUrls[config.type]).replace(/\/+$/, "");
  const label = `${config.type}:${config.model} @ ${displayUrl(baseUrl)}`;
  const options = config.options ?? {};
  const redactor = new Redactor();
  redactor.add(config.api_key);
  for (const value of Object.values(options.headers ?? {})) redactor.add(value);
  const redact = (text: string) => redactor.redact(text);
  const headers = options.headers ?? {};
  const fetchFn = deps.fetch;
  const callOptions: Partial<
    Pick<LanguageModelV4CallOptions, "temperature" | "maxOutputTokens" | "toolChoice" | "providerOptions">
  > = {
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(options.max_output_tokens === undefined ? {} : { maxOutputTokens: options.max_output_tokens }),
    ...(options.tool_choice === undefined ? {} : { toolChoice: { type: options.tool_choice } }),
  };
  const common = { label, settings: callSettings(options), redact, deps };
  const probe = {
    model: config.model,
    timeoutMs: healthTimeoutMs,
    redact,
    ...(fetchFn ? { fetch: fetchFn } : {}),
  };

  if (config.type === "openai_compat") {
    const jsonMode = options.json_mode ?? "json_object";
    const provider = openAiCompatible().createOpenAICompatible({
      name: "openai_compat",
      baseURL: baseUrl,
      ...(config.api_key === undefined ? {} : { apiKey: config.api_key }),
      headers,
      includeUsage: options.stream_usage ?? true,
      supportsStructuredOutputs: jsonMode === "json_schema",
      ...(fetchFn ? { fetch: fetchFn } : {}),
    });
    const auth: Record<string, string> = config.api_key ? { authorization: `Bearer ${config.api_key}` } : {};
    return createModelProvider({
      ...common,
      model: provider.chatModel(config.model),
      callOptions: { ...callOptions, providerOptions: { openaiCompatible: { strictJsonSchema: false } } },
      jsonResponseFormat: jsonMode !== "none",
      health: (signal) =>
        probeHealth(
          { ...probe, url: `${baseUrl}/models`, headers: { ...headers, ...auth }, modelIds: openAiModelIds },
          signal,
        ),
    });
  }

  const apiKey = config.api_key;
  if (apiKey === undefined) {
    throw new ProviderRejected(
      label,
      undefined,
      `api_key is required for ${config.type} (e.g. "\${API_KEY_VAR}")`,
    );
  }
  // Anthropic and Gemini differ only in their SDK factory, auth headers and model list.
  const hosted: {
    create: ReturnType<typeof anthropic>["createAnthropic"] | ReturnType<typeof google>["createGoogle"];
    auth: Record<string, string>;
    modelIds: typeof anthropicModelIds;
  } =
    config.type === "anthropic"
      ? {
          create: anthropic().createAnthropic,
          auth: { "x-api-key": apiKey, "anthropic-version": "2023-06-01" },
          modelIds: anthropicModelIds,
        }
      : { create: google().createGoogle, auth: { "x-goog-api-key": apiKey }, modelIds: geminiModelIds };
  const provider = hosted.create({
    apiKey,
    baseURL: baseUrl,
    headers,
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
  return createModelProvider({
    ...common,
    model: provider.languageModel(config.model),
    callOptions,
    jsonResponseFormat: true,
    health: (signal) =>
      probeHealth(
        {
          ...probe,
          url: `${baseUrl}/models`,
          headers: { ...headers, ...hosted.auth },
          modelIds: hosted.modelIds,
        },
        signal,
      ),
  });
}
