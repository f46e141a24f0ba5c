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
 * Claude Code, headless: `claude -p <prompt> --output-format stream-json --verbose` (stream-json
 * needs --verbose in print mode), `--dangerously-skip-permissions` so it edits files and runs
 * commands without asking — GIMO's sandbox is the boundary — and `--disallowedTools` for
 * `git push`/`git merge` so the agent does not even try what GIMO does itself.
 *
 * Claude Code refuses to skip permissions as root unless `IS_SANDBOX=1` declares a sandbox; GIMO
 * sets it only when the CLI really runs under bubblewrap. Auto-update and telemetry traffic are off.
 * The key goes in ANTHROPIC_API_KEY.
 *
 * Output: one JSON object per line — `system/init`, `assistant` messages (text, tool_use),
 * `user` messages (tool_result), and a final `result` with the answer and the usage.
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
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    };
    if (input.sandboxed) env.IS_SANDBOX = "1";
    return { argv, env, apiHosts: ["api.anthropic.com"] };
  },
  parseOutput(line) {
    const ev = jsonLine(line);
    if (!ev) return textLine(line);
    const type = str(ev.type);
    if (type === "system") {
      return str(ev.subtype) === "init"
        ? { level: "info", msg: `claude started (model ${str(ev.model) ?? "default"})` }
        : { level: "debug", msg: `claude ${str(ev.subtype) ?? "system"} event` };
    }
    if (type === "assistant") return assistant(obj(ev.message).content);
    if (type === "user") return toolResults(obj(ev.message).content);
    if (type === "result") return result(ev);
    return { level: "debug", msg: clip(`claude ${type ?? "event"}: ${line.trim()}`, 300) };
  },
};

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

function result(ev: Record<string, unknown>): ParsedLine {
  const u = obj(ev.usage);
  const usage = {
    input_tokens: num(u.input_tokens) + num(u.cache_read_input_tokens) + num(u.cache_creation_input_tokens),
    output_tokens: num(u.output_tokens),
  };
  const answer = str(ev.result) ?? "";
  if (ev.is_error === true || (str(ev.subtype) ?? "success") !== "success") {
    return {
      level: "error",
      msg: `claude failed (${str(ev.subtype) ?? "error"}): ${clip(answer, 500)}`,
      usage,
    };
  }
  return { level: "info", msg: `claude finished: ${clip(answer, 500)}`, result: answer, usage };
}
