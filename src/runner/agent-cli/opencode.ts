import { GimoError } from "../../core/errors.ts";
import {
  type AgentCliAdapter,
  apiRoot,
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
 * OpenCode, headless: `opencode run --format json [-m provider/model] <prompt>`. The model names
 * its provider (`anthropic/claude-…`), and the provider decides the key's variable; for a provider
 * not listed, set `options.apiKeyEnv`. With a base URL, the model is served by a provider of GIMO's
 * own (`gimo`, OpenCode's bundled OpenAI-compatible client — nothing to download) at that URL, its
 * key in OPENCODE_GIMO_API_KEY unless `options.apiKeyEnv` says otherwise.
 *
 * Its configuration comes inline (OPENCODE_CONFIG_CONTENT): every tool allowed without asking
 * (GIMO's sandbox is the boundary), sharing and auto-update off. Offline: no models.dev catalogue
 * fetch when a base URL is given, no LSP downloads, no update check, no default plugins (which it
 * would install from the npm registry). `--dir` names the workspace: the sandbox's environment
 * has no PWD, and without it OpenCode opens its session at `/`.
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

const OWN_KEY = "OPENCODE_GIMO_API_KEY";

function keyName(model: string | undefined, baseUrl: string | undefined, apiKeyEnv: string | undefined) {
  if (apiKeyEnv) return apiKeyEnv;
  if (baseUrl) return OWN_KEY;
  const provider = model?.split("/")[0];
  return provider ? PROVIDER_KEYS[provider] : undefined;
}

export const opencodeAdapter: AgentCliAdapter = {
  kind: "opencode",
  binary: "opencode",
  refusal(config) {
    if (config.baseUrl || config.options?.apiKeyEnv || keyName(config.model, undefined, undefined))
      return undefined;
    return `opencode: cannot tell which variable holds the API key for model ${config.model}; name its provider (${Object.keys(PROVIDER_KEYS).join(", ")}/…), set base_url, or set options.api_key_env`;
  },
  buildCommand(input) {
    const o = input.options ?? {};
    const name = keyName(input.model, input.baseUrl, o.apiKeyEnv);
    if (input.apiKey && !name) {
      throw new GimoError(
        "unprocessable",
        `opencode: cannot tell which variable holds the API key for model ${input.model ?? "(none)"}; set options.apiKeyEnv`,
      );
    }
    const config: Record<string, unknown> = {
      $schema: "https://opencode.ai/config.json",
      autoupdate: false,
      share: "disabled",
      permission: { edit: "allow", bash: "allow", webfetch: "allow", external_directory: "allow" },
    };
    let model = input.model;
    if (input.baseUrl && input.model) {
      config.provider = {
        gimo: {
          npm: "@ai-sdk/openai-compatible",
          name: "GIMO",
          options: { baseURL: apiRoot(input.baseUrl), apiKey: `{env:${name}}` },
          models: { [input.model]: { name: input.model } },
        },
      };
      model = `gimo/${input.model}`;
    }
    const argv = [
      o.command ?? "opencode",
      "run",
      "--format",
      "json",
      "--dir",
      input.workspace,
      ...(model ? ["-m", model] : []),
      ...(o.args ?? []),
      promptArg(input.prompt),
    ];
    const env: Record<string, string> = {
      ...keyEnv(name, input.apiKey),
      OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
      OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
      ...(input.baseUrl ? { OPENCODE_DISABLE_MODELS_FETCH: "1" } : {}),
    };
    const host = input.model ? PROVIDER_HOSTS[input.model.split("/")[0] ?? ""] : undefined;
    return {
      argv,
      env,
      apiHosts: input.baseUrl ? [] : ["models.dev", ...(host ? [host] : [])],
      // Its `run` talks to its own server at http://opencode.internal, in process; through the
      // proxy that request is refused and the run waits forever.
      noProxy: ["opencode.internal"],
    };
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
