import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FinishReason,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import type { CallSettings } from "./config.ts";
import { ProviderRejected, StructuredOutputInvalid } from "./errors.ts";
import { describeZodError, extractJson, jsonSchemaOf } from "./json.ts";
import { fromContent, toFinishReason, toPrompt, toToolCall, toTools, toUsage } from "./messages.ts";
import type {
  GenerateObjectRequest,
  GenerateObjectResult,
  HealthResult,
  LlmProvider,
  StepRequest,
  StepResult,
  ToolCall,
} from "./port.ts";
import { type RetryDeps, withRetries } from "./retry.ts";

/**
 * One `LlmProvider` over any AI SDK language model (provider specification v4). The SDK's own
 * retries are not used: `withRetries` owns timeouts, backoff and the typed errors. Structured output
 * asks for JSON (response format, where the server supports it) and always shows the JSON Schema in
 * the system prompt, then validates with zod here, so servers that ignore the response format
 * still work.
 */
export interface ModelAdapterConfig {
  label: string;
  model: LanguageModelV4;
  settings: CallSettings;
  /** Applied to every call: temperature, token cap, tool choice, provider options. */
  callOptions: Partial<
    Pick<LanguageModelV4CallOptions, "temperature" | "maxOutputTokens" | "toolChoice" | "providerOptions">
  >;
  /** Whether to send a JSON response format; false sends none and relies on the prompt. */
  jsonResponseFormat: boolean;
  redact: (text: string) => string;
  health: (signal?: AbortSignal) => Promise<HealthResult>;
  deps?: RetryDeps;
}

interface Turn {
  text: string;
  toolCalls: ToolCall[];
  usage: StepResult["usage"];
  finishReason: StepResult["finishReason"];
}

export function createModelProvider(config: ModelAdapterConfig): LlmProvider {
  // Instance state, not module state: a server that rejected the JSON response format is not asked
  // for it again by this provider.
  let jsonResponseFormat = config.jsonResponseFormat;

  const call = (options: Omit<LanguageModelV4CallOptions, "abortSignal">, signal?: AbortSignal) =>
    withRetries((attemptSignal) => runTurn(config, options, attemptSignal), {
      ...config.deps,
      settings: config.settings,
      provider: config.label,
      redact: config.redact,
      signal,
    });

  return {
    label: config.label,

    async generateObject<T>(request: GenerateObjectRequest<T>): Promise<GenerateObjectResult<T>> {
      const schema = jsonSchemaOf(request.schema);
      const prompt = toPrompt(
        `${request.system}\n\n${jsonInstructions(request.schemaName, schema)}`,
        request.messages,
      );
      const options = (withFormat: boolean) => ({
        ...config.callOptions,
        prompt,
        ...(withFormat
          ? { responseFormat: { type: "json" as const, schema, name: request.schemaName } }
          : {}),
      });
      let turn: Turn;
      try {
        turn = await call(options(jsonResponseFormat), request.signal);
      } catch (error) {
        if (!(jsonResponseFormat && rejectsResponseFormat(error))) throw error;
        jsonResponseFormat = false;
        turn = await call(options(false), request.signal);
      }
      const extracted = extractJson(turn.text);
      if (!extracted.ok)
        throw new StructuredOutputInvalid(request.schemaName, extracted.problem, turn.text, turn.usage);
      const parsed = request.schema.safeParse(extracted.value);
      if (!parsed.success) {
        throw new StructuredOutputInvalid(
          request.schemaName,
          describeZodError(parsed.error),
          turn.text,
          turn.usage,
        );
      }
      return { value: parsed.data, usage: turn.usage, raw: turn.text };
    },

    async step(request: StepRequest): Promise<StepResult> {
      const options = {
        ...config.callOptions,
        prompt: toPrompt(request.system, request.messages),
        ...(request.tools.length > 0 ? { tools: toTools(request.tools) } : { toolChoice: undefined }),
      };
      return call(options, request.signal);
    },

    health: (signal) => config.health(signal),
  };
}

async function runTurn(
  config: ModelAdapterConfig,
  options: Omit<LanguageModelV4CallOptions, "abortSignal">,
  signal: AbortSignal,
): Promise<Turn> {
  if (!config.settings.stream) {
    const result = await config.model.doGenerate({ ...options, abortSignal: signal });
    const { text, toolCalls } = fromContent(result.content);
    return {
      text: result.structuredOutputText ?? text,
      toolCalls,
      usage: toUsage(result.usage),
      finishReason: toFinishReason(result.finishReason),
    };
  }
  const { stream } = await config.model.doStream({ ...options, abortSignal: signal });
  return collectStream(stream);
}

/** Reads a whole stream into one turn; an error part throws (and is then classified for retry). */
export async function collectStream(stream: ReadableStream<LanguageModelV4StreamPart>): Promise<Turn> {
  let text = "";
  const toolCalls: ToolCall[] = [];
  let usage: LanguageModelV4Usage | undefined;
  let finishReason: LanguageModelV4FinishReason | undefined;
  for await (const part of stream) {
    if (part.type === "text-delta") text += part.delta;
    else if (part.type === "tool-call" && !part.providerExecuted) toolCalls.push(toToolCall(part));
    else if (part.type === "finish") {
      usage = part.usage;
      finishReason = part.finishReason;
    } else if (part.type === "error") throw streamError(part.error);
  }
  return { text, toolCalls, usage: toUsage(usage), finishReason: toFinishReason(finishReason) };
}

function streamError(error: unknown): Error {
  if (error instanceof Error) return error;
  const message =
    typeof error === "object" && error !== null && "message" in error
      ? String(error.message)
      : JSON.stringify(error);
  const wrapped = new Error(`the stream reported an error: ${message}`);
  wrapped.name = "StreamError";
  return wrapped;
}

function rejectsResponseFormat(error: unknown): boolean {
  return (
    error instanceof ProviderRejected &&
    (error.httpStatus === 400 || error.httpStatus === 422) &&
    /response_format|json_object|json_schema|response format/i.test(error.message)
  );
}

function jsonInstructions(name: string, schema: Record<string, unknown>): string {
  return [
    "## Output format",
    `Answer with exactly one JSON object, the ${name}, matching this JSON Schema.`,
    "Write nothing before or after it: no prose, no Markdown code fences.",
    "",
    JSON.stringify(schema),
  ].join("\n");
}
