/**
 * An agent CLI adapter: how to start one coding-agent CLI (Claude Code, Codex, Gemini CLI,
 * OpenCode, Qwen Code) non-interactively on a prompt, and how to read what it prints.
 *
 * `buildCommand` answers the argv, the ONLY environment variables the CLI gets besides the
 * sandbox's minimal base (env.ts) — its API key under the name that CLI reads, its model API's base
 * URL, the switches that keep it offline (no telemetry, update checks or login flows), nothing of
 * GIMO's — the files it must find in its (fresh, private) home, and the hosts of its model API,
 * which the sandbox's egress proxy lets it reach. `refusal` says, before anything runs, why a
 * configuration cannot work (checked when the provider is configured and again at run start).
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
  /** The model API's base URL (the provider's `base_url`), instead of the vendor's. */
  baseUrl?: string;
}

export interface AgentCliCommand {
  argv: string[];
  env: Record<string, string>;
  /** The `host[:port]`s of its model API: the sandbox lets the CLI reach these, and only these
   * unless the project's network is on. */
  apiHosts: string[];
  /** Files written under the CLI's home (the sandbox's private /tmp) before it starts, by path
   * relative to that home: settings a CLI reads only from a file. */
  homeFiles?: Record<string, string>;
  /** Names the CLI serves inside its own process: kept out of the proxy (`NO_PROXY`). */
  noProxy?: string[];
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
  /** Why this configuration cannot work, or undefined when it can. */
  refusal?(config: AgentCliConfig): string | undefined;
}

/** What `refusal` looks at: the provider's settings, before any secret is resolved. */
export interface AgentCliConfig {
  model: string;
  baseUrl?: string;
  options?: AgentCliOptions;
}

export const agentCliKinds = ["claude", "codex", "gemini", "opencode", "qwen"] as const;
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

/**
 * A base URL without its trailing slash and, with `dropV1`, without a trailing `/v1` — for CLIs
 * that add the version themselves (Claude Code, Gemini CLI).
 */
export function apiRoot(baseUrl: string, dropV1 = false): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  return dropV1 ? trimmed.replace(/\/v1(beta)?$/, "") : trimmed;
}

/** The environment carrying the API key, if one was given. */
export function keyEnv(name: string | undefined, apiKey: string | undefined): Record<string, string> {
  return name && apiKey ? { [name]: apiKey } : {};
}
