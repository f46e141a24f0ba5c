import {
  type AgentCliAdapter,
  apiRoot,
  clip,
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
 * OpenAI Codex CLI, headless: `codex exec --json --skip-git-repo-check [-m model] -- <prompt>`.
 * Inside GIMO's bubblewrap sandbox, `--dangerously-bypass-approvals-and-sandbox`: Codex's own
 * sandbox (bubblewrap/Landlock again) cannot nest in GIMO's, which is the boundary; without GIMO's
 * sandbox (`GIMO_SANDBOX=off`), `--sandbox workspace-write` keeps Codex's own. Approvals never
 * prompt in `exec`. The key goes in CODEX_API_KEY, which `codex exec` reads.
 *
 * A base URL becomes a model provider of its own (`model_providers.gimo`, the Responses API —
 * Codex speaks nothing else — with the key's variable as its `env_key`). Offline: no update
 * check, no analytics.
 *
 * Output (`--json`): JSON lines — `thread.started`, `turn.started`, `item.started` /
 * `item.completed` with items `agent_message`, `reasoning`, `command_execution`, `file_change`,
 * `mcp_tool_call`, `error`; `turn.completed` with usage; `turn.failed` / `error`. The older
 * `{"msg":{"type":…}}` event shape is read too.
 */
export const codexAdapter: AgentCliAdapter = {
  kind: "codex",
  binary: "codex",
  buildCommand(input) {
    const o = input.options ?? {};
    const keyName = o.apiKeyEnv ?? "CODEX_API_KEY";
    const provider = input.baseUrl
      ? [
          "-c",
          "model_provider=gimo",
          "-c",
          `model_providers.gimo={name="GIMO",base_url=${JSON.stringify(apiRoot(input.baseUrl))},env_key=${JSON.stringify(keyName)},wire_api="responses"}`,
        ]
      : [];
    const argv = [
      o.command ?? "codex",
      "exec",
      "--json",
      "--skip-git-repo-check",
      ...(input.sandboxed
        ? ["--dangerously-bypass-approvals-and-sandbox"]
        : ["--sandbox", "workspace-write"]),
      "-c",
      "check_for_update_on_startup=false",
      "-c",
      "analytics.enabled=false",
      ...provider,
      ...(input.model ? ["-m", input.model] : []),
      ...(o.args ?? []),
      "--",
      promptArg(input.prompt),
    ];
    return { argv, env: keyEnv(keyName, input.apiKey), apiHosts: input.baseUrl ? [] : ["api.openai.com"] };
  },
  parseOutput(line) {
    const ev = jsonLine(line);
    if (!ev) return textLine(line);
    if (ev.msg && typeof ev.msg === "object") return legacy(obj(ev.msg));
    const type = str(ev.type);
    switch (type) {
      case "thread.started":
        return { level: "debug", msg: `codex session ${str(ev.thread_id) ?? ""}`.trim() };
      case "item.started":
      case "item.completed":
        return item(obj(ev.item), type === "item.completed");
      case "turn.completed": {
        const u = obj(ev.usage);
        const usage = { input_tokens: num(u.input_tokens), output_tokens: num(u.output_tokens) };
        return {
          level: "debug",
          msg: `codex turn done (${usage.input_tokens} in, ${usage.output_tokens} out)`,
          usage,
        };
      }
      case "turn.failed":
        return {
          level: "error",
          msg: `codex failed: ${clip(str(obj(ev.error).message) ?? "unknown error", 500)}`,
        };
      case "error":
        return { level: "error", msg: `codex: ${clip(str(ev.message) ?? "error", 500)}` };
      default:
        return type?.startsWith("turn.") || type?.startsWith("item.")
          ? undefined
          : { level: "debug", msg: clip(line.trim(), 300) };
    }
  },
};

function item(it: Record<string, unknown>, completed: boolean): ParsedLine | undefined {
  const type = str(it.type) ?? str(it.item_type);
  if (type === "agent_message" || type === "assistant_message") {
    const text = str(it.text) ?? "";
    return completed && text ? { level: "info", msg: clip(text), result: text } : undefined;
  }
  if (type === "reasoning")
    return completed ? { level: "debug", msg: clip(str(it.text) ?? "", 500) } : undefined;
  if (type === "command_execution") {
    const command = str(it.command) ?? "";
    if (!completed) return { level: "info", msg: `$ ${command}` };
    const code = typeof it.exit_code === "number" ? it.exit_code : undefined;
    return code !== undefined && code !== 0
      ? {
          level: "warn",
          msg: `exit ${code}: $ ${command}\n${clip(str(it.aggregated_output) ?? "", 500)}`.trimEnd(),
        }
      : { level: "debug", msg: `done: $ ${command}` };
  }
  if (type === "file_change" && completed) {
    const changes = Array.isArray(it.changes)
      ? it.changes.map((c) => `${str(obj(c).kind) ?? "update"} ${str(obj(c).path) ?? "?"}`)
      : [];
    return { level: "info", msg: `edited: ${changes.join(", ") || "files"}` };
  }
  if (type === "mcp_tool_call" && !completed)
    return { level: "info", msg: `→ ${str(it.server) ?? "mcp"}.${str(it.tool) ?? "tool"}` };
  if (type === "error") return { level: "warn", msg: clip(str(it.message) ?? "error", 500) };
  return undefined;
}

function legacy(msg: Record<string, unknown>): ParsedLine | undefined {
  switch (str(msg.type)) {
    case "agent_message":
      return { level: "info", msg: clip(str(msg.message) ?? ""), result: str(msg.message) };
    case "exec_command_begin":
      return {
        level: "info",
        msg: `$ ${Array.isArray(msg.command) ? msg.command.join(" ") : String(msg.command ?? "")}`,
      };
    case "task_complete":
      return { level: "info", msg: "codex finished", result: str(msg.last_agent_message) };
    case "error":
      return { level: "error", msg: `codex: ${clip(str(msg.message) ?? "error", 500)}` };
    default:
      return undefined;
  }
}
