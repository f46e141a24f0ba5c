import type { CommandResult, Sandbox, SandboxSpec } from "../sandbox/sandbox.ts";
import type { AgentCliAdapter, AgentCliInput, LogLevel, ParsedLine } from "./adapter.ts";

/**
 * Runs a coding-agent CLI as the executor of one step, in the same sandbox and under the same
 * budgets as any command: the spec's timeout is the step's wall budget, its output cap bounds what
 * is kept. Two things differ from a plain command:
 *  - it reaches its model API (the adapter's hosts, and a configured base URL's) through the
 *    egress proxy — and nothing else unless the project's network is on — and the environment is
 *    exactly what the adapter returns: the CLI's own API key under its own name, nothing of GIMO's;
 *  - the output is read line by line as it streams and each line goes through the adapter's
 *    parser to the run's log (`onLog`); streamed message fragments are joined into one line.
 *
 * The CLI edits the workspace; GIMO does the git work afterwards, as for its own agent.
 */
export interface AgentCliRunOptions {
  onLog: (level: LogLevel, msg: string) => void;
  signal?: AbortSignal;
}

export interface AgentCliRunResult {
  ok: boolean;
  /** The agent's final answer, when its output carried one. */
  summary?: string;
  usage: { input_tokens: number; output_tokens: number };
  command: CommandResult;
}

/** The live log follows a long run well past the kept output's cap. */
const STREAM_CAP_BYTES = 64 * 1024 * 1024;
const MAX_LINE = 1024 * 1024;
const MAX_PARTIAL = 2_000;

export async function runAgentCli(
  adapter: AgentCliAdapter,
  input: AgentCliInput,
  sandbox: Sandbox,
  spec: SandboxSpec,
  opts: AgentCliRunOptions,
): Promise<AgentCliRunResult> {
  const built = adapter.buildCommand({
    ...input,
    workspace: spec.workspace,
    sandboxed: sandbox.kind === "bwrap",
  });
  const usage = { input_tokens: 0, output_tokens: 0 };
  let summary: string | undefined;
  let pending = "";
  let buffer = "";

  const flushPartial = () => {
    if (pending.trim()) opts.onLog("info", pending.trimEnd());
    pending = "";
  };
  const take = (parsed: ParsedLine | undefined) => {
    if (!parsed) return;
    if (parsed.usage) {
      usage.input_tokens += parsed.usage.input_tokens;
      usage.output_tokens += parsed.usage.output_tokens;
    }
    if (parsed.result !== undefined) summary = parsed.result;
    if (parsed.partial) {
      pending += parsed.msg;
      if (pending.length > MAX_PARTIAL || pending.endsWith("\n")) flushPartial();
      return;
    }
    flushPartial();
    opts.onLog(parsed.level, parsed.msg);
  };
  const line = (text: string) => {
    try {
      take(adapter.parseOutput(text));
    } catch (error) {
      opts.onLog("warn", `could not read a line of ${adapter.kind} output: ${String(error)}`);
    }
  };

  const api = [...built.apiHosts, ...(input.apiHosts ?? [])];
  const argv = withHomeFiles(built.argv, built.homeFiles);
  opts.onLog(
    "info",
    `running ${adapter.kind}: ${built.argv[0]} (network: ${spec.network ? "on" : api.join(", ") || "off"}, ${Math.round(spec.timeoutMs / 1000)} s budget)`,
  );
  const network: Partial<SandboxSpec> = {
    network: spec.network || api.length > 0,
    egress: spec.network ? (spec.egress ?? []) : api,
    egressAlways: api,
    ...(built.noProxy ? { noProxy: built.noProxy } : {}),
  };
  const command = await sandbox.runArgv(
    argv,
    { ...spec, ...network, env: built.env },
    {
      signal: opts.signal,
      streamCapBytes: STREAM_CAP_BYTES,
      onOutput: (chunk) => {
        buffer += chunk;
        let nl = buffer.indexOf("\n");
        while (nl >= 0) {
          line(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf("\n");
        }
        if (buffer.length > MAX_LINE) {
          line(buffer);
          buffer = "";
        }
      },
    },
  );
  if (buffer) line(buffer);
  flushPartial();

  if (command.timedOut) {
    opts.onLog(
      "error",
      `${adapter.kind} ran past its time budget (${Math.round(spec.timeoutMs / 1000)} s) and was stopped`,
    );
  } else if (command.exitCode !== 0) {
    const missing = /execvp .*No such file|ENOENT|exec: .*not found/.test(command.output);
    opts.onLog(
      "error",
      missing
        ? `the ${adapter.kind} CLI (${built.argv[0]}) was not found: install it or set options.command`
        : `${adapter.kind} exited with ${command.exitCode ?? command.signal}`,
    );
  }
  return { ok: command.exitCode === 0 && !command.timedOut, summary, usage, command };
}

/**
 * The argv that first writes the adapter's `homeFiles` under `$HOME` (the sandbox's private /tmp),
 * then execs the CLI: `sh -c '…; exec "$@"' sh <argv…>`. The contents are quoted into the script,
 * never passed through the environment.
 */
export function withHomeFiles(argv: string[], files: Record<string, string> | undefined): string[] {
  const entries = Object.entries(files ?? {});
  if (entries.length === 0) return argv;
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const lines = entries.map(([rel, content]) => {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(rel) || rel.split("/").includes(".."))
      throw new Error(`an agent CLI's home file must be a plain relative path, not ${rel}`);
    const dir = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
    return `${dir ? `mkdir -p "$HOME"/${quote(dir)} && ` : ""}printf '%s' ${quote(content)} > "$HOME"/${quote(rel)}`;
  });
  return ["/bin/sh", "-c", `umask 077 && ${lines.join(" && ")} && exec "$@"`, "sh", ...argv];
}
