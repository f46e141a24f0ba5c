/**
 * An agent CLI adapter: how to start one coding-agent CLI (Claude Code, Codex, Gemini CLI,
 * OpenCode) non-interactively on a prompt, and how to read what it prints.
 *
 * `buildCommand` answers the argv, the ONLY environment variables the CLI gets besides the
 * sandbox's minimal base (env.ts) — its API key under the name that CLI reads, nothing of GIMO's —
 * and the hosts of its model API, which the sandbox's egress proxy lets it reach.
 * `parseOutput` turns one line of its output (JSON lines, or plain text) into a readable log line,
 * or undefined for noise. A parsed line may carry the agent's final `result` text, token `usage`,
 * or be a `partial` chunk of a streamed message that the runner joins into one line.
 *
 * Adapters are pure: the runner (run.ts) runs the argv inside the sandbox with the run's budgets.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface AgentCliOptions {
  /** The executable (default: the CLI's usual name, found on the sandbox's PATH). */
  command?: string;
  /** Extra arguments, placed before the prompt. */
  args?: string[];
  /** The environment variable the API key goes into, when the adapter cannot tell. */
  apiKeyEnv?: string;
}

export interface AgentCliInput {
  prompt: string;
  model?: string;
  workspace: string;
  /** The resolved API key, if the CLI authenticates with one. */
  apiKey?: string;
  options?: AgentCliOptions;
  /** Whether it runs inside GIMO's bubblewrap sandbox (some CLIs relax their own guard then). */
  sandboxed?: boolean;
  /** More `host[:port]`s its model API lives at (a configured base URL's). */
  apiHosts?: string[];
}

export interface AgentCliCommand {
  argv: string[];
  env: Record<string, string>;
  /** The `host[:port]`s of its model API: the sandbox lets the CLI reach these, and only these
   * unless the project's network is on. */
  apiHosts: string[];
}

export interface ParsedLine {
  level: LogLevel;
  msg: string;
  /** The agent's final answer (the last one wins). */
  result?: string;
  usage?: { input_tokens: number; output_tokens: number };
  /** A fragment of a streamed message: joined with the following fragments into one log line. */
  partial?: boolean;
}

export interface AgentCliAdapter {
  readonly kind: AgentCliKind;
  /** The usual executable name. */
  readonly binary: string;
  buildCommand(input: AgentCliInput): AgentCliCommand;
  parseOutput(line: string): ParsedLine | undefined;
}

export const agentCliKinds = ["claude", "codex", "gemini", "opencode"] as const;
export type AgentCliKind = (typeof agentCliKinds)[number];

// ───────────────────────────── helpers shared by the adapters ─────────────────────────────

const MAX_MSG = 2_000;

export function clip(text: string, max = MAX_MSG): string {
  const flat = text.replace(/\s+$/g, "");
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length - max} more characters)` : flat;
}

/** A prompt that cannot be mistaken for an option by the CLI's argument parser. */
export function promptArg(prompt: string): string {
  return prompt.startsWith("-") ? ` ${prompt}` : prompt;
}

/** One line of output as a JSON object, or undefined when it is not one. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  const t = line.trim();
  if (!t.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A plain-text line: logged as is; blank lines are noise. */
export function textLine(line: string): ParsedLine | undefined {
  const t = line.trimEnd();
  return t.trim() === "" ? undefined : { level: "info", msg: clip(t) };
}

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
export const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** A short description of a tool call's input: the command, the file, or compact JSON. */
export function describeInput(input: unknown): string {
  const o = obj(input);
  const cmd = o.command ?? o.cmd;
  if (typeof cmd === "string") return `$ ${cmd}`;
  if (Array.isArray(cmd)) return `$ ${cmd.join(" ")}`;
  const path = o.file_path ?? o.filePath ?? o.path ?? o.absolute_path ?? o.pattern;
  if (typeof path === "string") return path;
  const json = JSON.stringify(input ?? {});
  return json === "{}" ? "" : clip(json, 200);
}

/** The environment carrying the API key, if one was given. */
export function keyEnv(name: string | undefined, apiKey: string | undefined): Record<string, string> {
  return name && apiKey ? { [name]: apiKey } : {};
}
