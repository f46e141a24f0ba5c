import type {
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4FunctionTool,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { parseArgs } from "./json.ts";
import type { ChatMessage, FinishReason, ToolCall, ToolSpec, Usage } from "./port.ts";

/** Translations between the port's shapes and the AI SDK's provider specification (v4). */

export function toPrompt(system: string, messages: ChatMessage[]): LanguageModelV4Prompt {
  const prompt: LanguageModelV4Prompt = [];
  if (system.trim() !== "") prompt.push({ role: "system", content: system });
  for (const message of messages) {
    if (message.role === "user") {
      prompt.push({ role: "user", content: [{ type: "text", text: message.content }] });
    } else if (message.role === "assistant") {
      prompt.push(assistantMessage(message));
    } else {
      const part = {
        type: "tool-result" as const,
        toolCallId: message.toolCallId,
        toolName: message.toolName,
        output: message.isError
          ? { type: "error-text" as const, value: message.content }
          : { type: "text" as const, value: message.content },
      };
      // Consecutive tool results belong to one tool message (Anthropic requires it).
      const last = prompt.at(-1);
      if (last?.role === "tool") last.content.push(part);
      else prompt.push({ role: "tool", content: [part] });
    }
  }
  return prompt;
}

function assistantMessage(message: Extract<ChatMessage, { role: "assistant" }>): LanguageModelV4Message {
  const content: Extract<LanguageModelV4Message, { role: "assistant" }>["content"] = [];
  if (message.content !== "") content.push({ type: "text", text: message.content });
  for (const call of message.toolCalls ?? []) {
    content.push({ type: "tool-call", toolCallId: call.id, toolName: call.name, input: call.args ?? {} });
  }
  return { role: "assistant", content };
}

export function toTools(tools: ToolSpec[]): LanguageModelV4FunctionTool[] {
  return tools.map((tool) => ({
    type: "function",
    name: tool.name,
    description: tool.description,
    inputSchema: tool.parameters as LanguageModelV4FunctionTool["inputSchema"],
  }));
}

export function toUsage(usage: LanguageModelV4Usage | undefined): Usage {
  return {
    input_tokens: usage?.inputTokens.total ?? 0,
    output_tokens: usage?.outputTokens.total ?? 0,
  };
}

export function toFinishReason(reason: LanguageModelV4FinishReason | undefined): FinishReason {
  switch (reason?.unified) {
    case "stop":
    case "length":
    case "tool-calls":
    case "content-filter":
    case "error":
      return reason.unified;
    default:
      return "other";
  }
}

export function toToolCall(part: { toolCallId: string; toolName: string; input: string }): ToolCall {
  return { id: part.toolCallId, name: part.toolName, args: parseArgs(part.input), rawArgs: part.input };
}

/** The text and tool calls of a non-streamed answer. */
export function fromContent(content: LanguageModelV4Content[]): { text: string; toolCalls: ToolCall[] } {
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const part of content) {
    if (part.type === "text") text += part.text;
    else if (part.type === "tool-call" && !part.providerExecuted) toolCalls.push(toToolCall(part));
  }
  return { text, toolCalls };
}
