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
 * Claude Code, headless: `claude -p <prompt> --output-format stream-json --verbose` (stream-json
 * needs --verbose in print mode), `--dangerously-skip-permissions` so it edits files and runs
 * commands without asking — GIMO's sandbox is the boundary — and `--disallowedTools` for
 * `git push`/`git merge` so the agent does not even try what GIMO does itself.
 *
 * Claude Code refuses to skip permissions as root unless `IS_SANDBOX=1` declares a sandbox; GIMO
 * sets it only when the CLI really runs under bubblewrap. Offline: auto-update, telemetry, error
 * reporting and other non-essential traffic are off, so it talks to its model API alone. The key
 * goes in ANTHROPIC_API_KEY; a base URL in ANTHROPIC_BASE_URL (without `/v1`: it adds that itself).
 *
 * Output: one JSON object per line — `system/init`, `assistant` messages (text, tool_use),
 * `user` messages (tool_result), and a final `result` with the answer and the usage. Qwen Code
 * prints the same shape (qwen.ts uses `streamJsonLine`).
 */
export const claudeAdapter: AgentCliAdapter = {
  kind: "claude",
  binary: "claude",
  buildCommand(input) {
    const o = input.options ?? {};
    const argv = [
      o.command ?? "claude",
      "-p",
      promptArg(input.prompt),
      "--output-format",
      "stream-json",
      "--verbose",
      "--disallowedTools",
      "Bash(git push:*),Bash(git merge:*)",
      "--dangerously-skip-permissions",
      ...(input.model ? ["--model", input.model] : []),
      ...(o.args ?? []),
    ];
    const env: Record<string, string> = {
      ...keyEnv(o.apiKeyEnv ?? "ANTHROPIC_API_KEY", input.apiKey),
      ...(input.baseUrl ? { ANTHROPIC_BASE_URL: apiRoot(input.baseUrl, true) } : {}),
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    };
    if (input.sandboxed) env.IS_SANDBOX = "1";
    return { argv, env, apiHosts: input.baseUrl ? [] : ["api.anthropic.com"] };
  },
  parseOutput: (line) => streamJsonLine("claude", line),
};

/** One line of Claude-style stream-json (Claude Code, Qwen Code), logged under `name`. */
export function streamJsonLine(name: string, line: string): ParsedLine | undefined {
  const ev = jsonLine(line);
  if (!ev) return textLine(line);
  const type = str(ev.type);
  if (type === "system") {
    return str(ev.subtype) === "init"
      ? { level: "info", msg: `${name} started (model ${str(ev.model) ?? "default"})` }
      : { level: "debug", msg: `${name} ${str(ev.subtype) ?? "system"} event` };
  }
  if (type === "assistant") return assistant(obj(ev.message).content);
  if (type === "user") return toolResults(obj(ev.message).content);
  if (type === "result") return result(name, ev);
  return { level: "debug", msg: clip(`${name} ${type ?? "event"}: ${line.trim()}`, 300) };
}

function assistant(content: unknown): ParsedLine | undefined {
  const parts: string[] = [];
  for (const item of Array.isArray(content) ? content : []) {
    const c = obj(item);
    if (c.type === "text" && typeof c.text === "string" && c.text.trim()) parts.push(clip(c.text));
    if (c.type === "tool_use") parts.push(`→ ${str(c.name) ?? "tool"} ${describeInput(c.input)}`.trimEnd());
  }
  return parts.length ? { level: "info", msg: parts.join("\n") } : undefined;
}

function toolResults(content: unknown): ParsedLine | undefined {
  for (const item of Array.isArray(content) ? content : []) {
    const c = obj(item);
    if (c.type !== "tool_result") continue;
    const text = Array.isArray(c.content)
      ? c.content.map((x) => str(obj(x).text) ?? "").join("\n")
      : (str(c.content) ?? "");
    return c.is_error === true
      ? { level: "warn", msg: `tool error: ${clip(text, 500)}` }
      : { level: "debug", msg: `tool result: ${clip(text, 300)}` };
  }
  return undefined;
}

function result(name: string, ev: Record<string, unknown>): ParsedLine {
  const u = obj(ev.usage);
  const usage = {
    input_tokens: num(u.input_tokens) + num(u.cache_read_input_tokens) + num(u.cache_creation_input_tokens),
    output_tokens: num(u.output_tokens),
  };
  const answer = str(ev.result) ?? "";
  if (ev.is_error === true || (str(ev.subtype) ?? "success") !== "success") {
    return {
      level: "error",
      msg: `${name} failed (${str(ev.subtype) ?? "error"}): ${clip(answer, 500)}`,
      usage,
    };
  }
  return { level: "info", msg: `${name} finished: ${clip(answer, 500)}`, result: answer, usage };
}
