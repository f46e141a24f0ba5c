import type { ZodType } from "zod";

/**
 * The LLM port: the only surface of a model that the rest of GIMO sees. Planner and executor code
 * talk to an `LlmProvider`; adapters (src/llm/adapter.ts over the Vercel AI SDK) implement it for
 * OpenAI-compatible servers, Anthropic and Gemini. Every call returns the tokens it used; every
 * failure is one of the typed errors in src/llm/errors.ts.
 */

/** One turn of a conversation. The system prompt is passed separately, never as a message. */
export type ChatMessage =
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] }
  | { role: "tool"; toolCallId: string; toolName: string; content: string; isError?: boolean };

/** A tool the model may call. `parameters` is a JSON Schema object (see `jsonSchemaOf`). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/**
 * A tool call as the model wrote it. `args` is the parsed JSON, or `undefined` when the model wrote
 * something that is not JSON (`rawArgs` keeps the text so the caller can tell the model what broke).
 */
export interface ToolCall {
  id: string;
  name: string;
  args: unknown;
  rawArgs: string;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export type FinishReason = "stop" | "length" | "tool-calls" | "content-filter" | "error" | "other";

export interface GenerateObjectRequest<T> {
  system: string;
  messages: ChatMessage[];
  /** Validates the answer; its JSON Schema is shown to the model. */
  schema: ZodType<T>;
  schemaName: string;
  signal?: AbortSignal;
}

export interface GenerateObjectResult<T> {
  value: T;
  usage: Usage;
  /** The model's text exactly as received, before JSON extraction and validation. */
  raw: string;
}

export interface StepRequest {
  system: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  signal?: AbortSignal;
}

/** One model turn: some text and/or tool calls for the caller's loop to execute. */
export interface StepResult {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  finishReason: FinishReason;
}

export interface HealthResult {
  ok: boolean;
  latency_ms: number;
  detail?: string;
}

export interface LlmProvider {
  /** e.g. `openai_compat:llama3.1 @ http://127.0.0.1:11434/v1` — never contains a secret. */
  readonly label: string;
  /** Asks for one JSON value and validates it; throws `StructuredOutputInvalid` when it does not fit. */
  generateObject<T>(request: GenerateObjectRequest<T>): Promise<GenerateObjectResult<T>>;
  /** One turn of a tool-calling loop; the loop itself (budgets, stuck detection) is the caller's. */
  step(request: StepRequest): Promise<StepResult>;
  /** A cheap reachability check (lists models); never throws. */
  health(signal?: AbortSignal): Promise<HealthResult>;
}

export const noUsage = (): Usage => ({ input_tokens: 0, output_tokens: 0 });

export function addUsage(a: Usage, b: Usage): Usage {
  return { input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens };
}
