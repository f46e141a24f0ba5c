import { type AgentCliAdapter, apiRoot, keyEnv, promptArg } from "./adapter.ts";
import { streamJsonLine } from "./claude.ts";
import { offlineSettings } from "./gemini.ts";

/**
 * Qwen Code (a Gemini CLI fork), headless over any OpenAI-compatible API:
 * `qwen --auth-type openai [-m model] --yolo --output-format stream-json <prompt>`. `--yolo`
 * approves every tool call (GIMO's sandbox is the boundary). The key goes in OPENAI_API_KEY, a base
 * URL in OPENAI_BASE_URL (with its `/v1`). Offline: its settings file (in the sandbox's private
 * home) turns usage statistics, telemetry and update checks off and selects the API-key login, so
 * no OAuth flow starts.
 *
 * Output: Claude-style stream-json (`system/init`, `assistant`, `user`, `result` with usage).
 */
export const qwenAdapter: AgentCliAdapter = {
  kind: "qwen",
  binary: "qwen",
  buildCommand(input) {
    const o = input.options ?? {};
    const argv = [
      o.command ?? "qwen",
      "--auth-type",
      "openai",
      ...(input.model ? ["-m", input.model] : []),
      "--yolo",
      "--output-format",
      "stream-json",
      ...(o.args ?? []),
      promptArg(input.prompt),
    ];
    return {
      argv,
      env: {
        ...keyEnv(o.apiKeyEnv ?? "OPENAI_API_KEY", input.apiKey),
        ...(input.baseUrl ? { OPENAI_BASE_URL: apiRoot(input.baseUrl) } : {}),
      },
      homeFiles: { ".qwen/settings.json": offlineSettings("openai") },
      apiHosts: input.baseUrl ? [] : ["api.openai.com"],
    };
  },
  parseOutput: (line) => streamJsonLine("qwen", line),
};
