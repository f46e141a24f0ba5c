import { GimoError } from "../../core/errors.ts";
import {
  type AgentCliAdapter,
  clip,
  describeInput,
  jsonLine,
  keyEnv,
  num,
  obj,
  type ParsedLine,
  promptArg,
  str,
  textLine,
} from "./adapter.ts";

/**
 * OpenCode, headless: `opencode run --format json [-m provider/model] <prompt>`. `opencode run`
 * allows tools without asking unless the project's opencode config says otherwise. The model names
 * its provider (`anthropic/claude-…`), and the provider decides the key's variable; for a provider
 * not listed, set `options.apiKeyEnv`.
 *
 * Output (`--format json`): JSON lines `{type, sessionID, part}` — `step_start`, `text` (a whole
 * message), `tool_use` (re-sent on each state change; logged once completed or failed),
 * `step_finish` with token counts, `reasoning`, `error`.
 */
const PROVIDER_KEYS: Record<string, string> = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  google: "GOOGLE_GENERATIVE_AI_API_KEY",
  openrouter: "OPENROUTER_API_KEY",
  groq: "GROQ_API_KEY",
  deepseek: "DEEPSEEK_API_KEY",
  mistral: "MISTRAL_API_KEY",
  xai: "XAI_API_KEY",
};

/** Where each provider's API lives (opencode also reads its model catalogue from models.dev). */
const PROVIDER_HOSTS: Record<string, string> = {
  anthropic: "api.anthropic.com",
  openai: "api.openai.com",
  google: "generativelanguage.googleapis.com",
  openrouter: "openrouter.ai",
  groq: "api.groq.com",
  deepseek: "api.deepseek.com",
  mistral: "api.mistral.ai",
  xai: "api.x.ai",
};

export const opencodeAdapter: AgentCliAdapter = {
  kind: "opencode",
  binary: "opencode",
  buildCommand(input) {
    const o = input.options ?? {};
    const provider = input.model?.split("/")[0];
    const keyName = o.apiKeyEnv ?? (provider ? PROVIDER_KEYS[provider] : undefined);
    if (input.apiKey && !keyName) {
      throw new GimoError(
        "unprocessable",
        `opencode: cannot tell which variable holds the API key for model ${input.model ?? "(none)"}; set options.apiKeyEnv`,
      );
    }
    const argv = [
      o.command ?? "opencode",
      "run",
      "--format",
      "json",
      ...(input.model ? ["-m", input.model] : []),
      ...(o.args ?? []),
      promptArg(input.prompt),
    ];
    const host = provider ? PROVIDER_HOSTS[provider] : undefined;
    return { argv, env: keyEnv(keyName, input.apiKey), apiHosts: ["models.dev", ...(host ? [host] : [])] };
  },
  parseOutput(line) {
    const ev = jsonLine(line);
    if (!ev) return textLine(line);
    const part = obj(ev.part);
    switch (str(ev.type)) {
      case "text": {
        const text = str(part.text) ?? "";
        return text.trim() ? { level: "info", msg: clip(text), result: text } : undefined;
      }
      case "tool_use":
        return tool(part);
      case "step_finish": {
        const t = obj(part.tokens);
        const usage = {
          input_tokens: num(t.input) + num(obj(t.cache).read),
          output_tokens: num(t.output) + num(t.reasoning),
        };
        return { level: "debug", msg: `opencode step done (${str(part.reason) ?? "stop"})`, usage };
      }
      case "step_start":
        return undefined;
      case "reasoning":
        return { level: "debug", msg: clip(str(part.text) ?? "", 500) };
      case "error": {
        const e = obj(ev.error);
        return {
          level: "error",
          msg: `opencode: ${clip(str(obj(e.data).message) ?? str(e.message) ?? str(e.name) ?? "error", 500)}`,
        };
      }
      default:
        return { level: "debug", msg: clip(line.trim(), 300) };
    }
  },
};

function tool(part: Record<string, unknown>): ParsedLine | undefined {
  const state = obj(part.state);
  const status = str(state.status);
  const name = str(part.tool) ?? "tool";
  if (status === "completed")
    return { level: "info", msg: `→ ${name} ${str(state.title) ?? describeInput(state.input)}`.trimEnd() };
  if (status === "error")
    return { level: "warn", msg: `→ ${name} failed: ${clip(str(state.error) ?? "", 500)}` };
  return undefined;
}
