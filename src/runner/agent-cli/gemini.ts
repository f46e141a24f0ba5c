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
 * Gemini CLI, headless: `gemini [-m model] --yolo --output-format stream-json -p <prompt>`.
 * `--yolo` approves every tool call (GIMO's sandbox is the boundary). The key goes in GEMINI_API_KEY,
 * a base URL in GOOGLE_GEMINI_BASE_URL (without `/v1beta`: it adds that itself).
 *
 * Offline and headless: its settings file (in the sandbox's private home) selects the API-key
 * login — else a base URL selects the "gateway" login, which headless mode refuses ("Invalid auth
 * method selected.") — and turns usage statistics, telemetry and update checks off;
 * GEMINI_CLI_TRUST_WORKSPACE trusts the workspace without asking.
 *
 * Output (stream-json): JSON lines — `init`, `message` (user/assistant, assistant text arrives as
 * `delta` chunks: marked `partial` so the runner joins them into one line), `tool_use`,
 * `tool_result`, `error`, and a final `result` with status and stats.
 */
/** The settings file of Gemini CLI and its fork Qwen Code: the API-key login, nothing sent home. */
export function offlineSettings(selectedType: string): string {
  return JSON.stringify({
    security: { auth: { selectedType } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { disableAutoUpdate: true, disableUpdateNag: true },
  });
}

export const geminiAdapter: AgentCliAdapter = {
  kind: "gemini",
  binary: "gemini",
  buildCommand(input) {
    const o = input.options ?? {};
    const argv = [
      o.command ?? "gemini",
      ...(input.model ? ["-m", input.model] : []),
      "--yolo",
      "--output-format",
      "stream-json",
      ...(o.args ?? []),
      "-p",
      promptArg(input.prompt),
    ];
    return {
      argv,
      env: {
        ...keyEnv(o.apiKeyEnv ?? "GEMINI_API_KEY", input.apiKey),
        ...(input.baseUrl ? { GOOGLE_GEMINI_BASE_URL: apiRoot(input.baseUrl, true) } : {}),
        GEMINI_CLI_TRUST_WORKSPACE: "true",
      },
      homeFiles: { ".gemini/settings.json": offlineSettings("gemini-api-key") },
      apiHosts: input.baseUrl ? [] : ["generativelanguage.googleapis.com"],
    };
  },
  parseOutput(line) {
    const ev = jsonLine(line);
    if (!ev) return textLine(line);
    switch (str(ev.type)) {
      case "init":
        return { level: "info", msg: `gemini started (model ${str(ev.model) ?? "default"})` };
      case "message": {
        if (str(ev.role) !== "assistant") return undefined;
        const text = str(ev.content) ?? "";
        if (!text) return undefined;
        return ev.delta === true
          ? { level: "info", msg: text, partial: true }
          : { level: "info", msg: clip(text) };
      }
      case "tool_use":
        return {
          level: "info",
          msg: `→ ${str(ev.tool_name) ?? "tool"} ${describeInput(ev.parameters)}`.trimEnd(),
        };
      case "tool_result":
        return str(ev.status) === "error"
          ? {
              level: "warn",
              msg: `tool error: ${clip(str(obj(ev.error).message) ?? str(ev.output) ?? "", 500)}`,
            }
          : { level: "debug", msg: `tool result: ${clip(str(ev.output) ?? "", 300)}` };
      case "error":
        return {
          level: str(ev.severity) === "warning" ? "warn" : "error",
          msg: `gemini: ${clip(str(ev.message) ?? "error", 500)}`,
        };
      case "result":
        return result(ev);
      default:
        return { level: "debug", msg: clip(line.trim(), 300) };
    }
  },
};

function result(ev: Record<string, unknown>): ParsedLine {
  const s = obj(ev.stats);
  const usage = {
    input_tokens: num(s.input_tokens) || num(s.inputTokens) || num(s.input),
    output_tokens: num(s.output_tokens) || num(s.outputTokens) || num(s.output),
  };
  if (str(ev.status) === "error") {
    return {
      level: "error",
      msg: `gemini failed: ${clip(str(obj(ev.error).message) ?? "error", 500)}`,
      usage,
    };
  }
  return { level: "info", msg: "gemini finished", usage };
}
