import { describe, expect, it } from "vitest";
import { GimoError } from "../../core/errors.ts";
import { claudeAdapter } from "./claude.ts";
import { codexAdapter } from "./codex.ts";
import { geminiAdapter } from "./gemini.ts";
import { opencodeAdapter } from "./opencode.ts";
import { resolveAdapter } from "./registry.ts";

/** Command lines and output parsing of each agent CLI adapter, from sample lines of each CLI. */
const input = { prompt: "Add validation", workspace: "/w", model: "m-1", apiKey: "sk-test" };

/** `flag` is followed by `value` somewhere in argv. */
function pair(argv: string[], flag: string, value: string): boolean {
  return argv.some((a, i) => a === flag && argv[i + 1] === value);
}

describe("command lines", () => {
  it("claude: print mode, stream-json with --verbose, permissions skipped, push/merge disallowed", () => {
    const { argv, env } = claudeAdapter.buildCommand({ ...input, sandboxed: true });
    expect(argv[0]).toBe("claude");
    expect(pair(argv, "-p", "Add validation")).toBe(true);
    expect(pair(argv, "--output-format", "stream-json")).toBe(true);
    expect(argv).toContain("--verbose");
    expect(argv).toContain("--dangerously-skip-permissions");
    expect(pair(argv, "--disallowedTools", "Bash(git push:*),Bash(git merge:*)")).toBe(true);
    expect(pair(argv, "--model", "m-1")).toBe(true);
    expect(env).toMatchObject({ ANTHROPIC_API_KEY: "sk-test", IS_SANDBOX: "1" });
    expect(Object.keys(env).filter((k) => k.includes("KEY"))).toEqual(["ANTHROPIC_API_KEY"]);
    const unsandboxed = claudeAdapter.buildCommand({ ...input, sandboxed: false });
    expect(unsandboxed.env.IS_SANDBOX).toBeUndefined();
  });

  it("codex: exec --json --full-auto, the prompt after --, key in CODEX_API_KEY", () => {
    const { argv, env } = codexAdapter.buildCommand(input);
    expect(argv.slice(0, 2)).toEqual(["codex", "exec"]);
    expect(argv).toContain("--json");
    expect(argv).toContain("--full-auto");
    expect(pair(argv, "-m", "m-1")).toBe(true);
    expect(argv.slice(-2)).toEqual(["--", "Add validation"]);
    expect(env).toEqual({ CODEX_API_KEY: "sk-test" });
  });

  it("gemini: --yolo, stream-json, -p prompt, key in GEMINI_API_KEY", () => {
    const { argv, env } = geminiAdapter.buildCommand(input);
    expect(argv[0]).toBe("gemini");
    expect(argv).toContain("--yolo");
    expect(pair(argv, "--output-format", "stream-json")).toBe(true);
    expect(pair(argv, "-p", "Add validation")).toBe(true);
    expect(pair(argv, "-m", "m-1")).toBe(true);
    expect(env).toEqual({ GEMINI_API_KEY: "sk-test" });
  });

  it("opencode: run --format json, key by the model's provider", () => {
    const { argv, env } = opencodeAdapter.buildCommand({ ...input, model: "anthropic/claude-x" });
    expect(argv.slice(0, 4)).toEqual(["opencode", "run", "--format", "json"]);
    expect(pair(argv, "-m", "anthropic/claude-x")).toBe(true);
    expect(argv.at(-1)).toBe("Add validation");
    expect(env).toEqual({ ANTHROPIC_API_KEY: "sk-test" });
    expect(opencodeAdapter.buildCommand({ ...input, model: "openai/gpt-x" }).env).toEqual({
      OPENAI_API_KEY: "sk-test",
    });
    expect(() => opencodeAdapter.buildCommand({ ...input, model: "acme/x" })).toThrow(/options.apiKeyEnv/);
    expect(
      opencodeAdapter.buildCommand({ ...input, model: "acme/x", options: { apiKeyEnv: "ACME_KEY" } }).env,
    ).toEqual({ ACME_KEY: "sk-test" });
  });

  it("honours command, extra args and a custom key variable; never passes an option-looking prompt as an option", () => {
    const { argv, env } = claudeAdapter.buildCommand({
      ...input,
      prompt: "--dangerously-do-something",
      options: { command: "/opt/bin/claude", args: ["--max-turns", "30"], apiKeyEnv: "MY_KEY" },
    });
    expect(argv[0]).toBe("/opt/bin/claude");
    expect(pair(argv, "--max-turns", "30")).toBe(true);
    expect(pair(argv, "-p", " --dangerously-do-something")).toBe(true);
    expect(env.MY_KEY).toBe("sk-test");
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(claudeAdapter.buildCommand({ ...input, apiKey: undefined }).env.ANTHROPIC_API_KEY).toBeUndefined();
  });

  it("resolves the adapter from the cli kind or the command's name", () => {
    expect(resolveAdapter({ cli: "gemini" }).kind).toBe("gemini");
    expect(resolveAdapter({ command: "/usr/local/bin/codex" }).kind).toBe("codex");
    expect(() => resolveAdapter({ command: "/usr/bin/aider" })).toThrow(GimoError);
    expect(() => resolveAdapter({ cli: "cursor" })).toThrow(/unknown agent CLI "cursor"/);
  });
});

describe("output parsing", () => {
  it("claude stream-json", () => {
    const p = (o: unknown) => claudeAdapter.parseOutput(JSON.stringify(o));
    expect(p({ type: "system", subtype: "init", model: "claude-x", cwd: "/w", tools: [] })).toEqual({
      level: "info",
      msg: "claude started (model claude-x)",
    });
    expect(
      p({
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "Let me look at the tests." },
            { type: "tool_use", id: "t1", name: "Bash", input: { command: "npm test" } },
            {
              type: "tool_use",
              id: "t2",
              name: "Edit",
              input: { file_path: "src/sales.ts", old_string: "a" },
            },
          ],
        },
      }),
    ).toEqual({ level: "info", msg: "Let me look at the tests.\n→ Bash $ npm test\n→ Edit src/sales.ts" });
    expect(
      p({
        type: "user",
        message: {
          content: [{ type: "tool_result", tool_use_id: "t1", content: "1 failed", is_error: true }],
        },
      }),
    ).toEqual({ level: "warn", msg: "tool error: 1 failed" });
    expect(
      p({
        type: "user",
        message: { content: [{ type: "tool_result", content: [{ type: "text", text: "ok" }] }] },
      })?.level,
    ).toBe("debug");
    expect(
      p({
        type: "result",
        subtype: "success",
        is_error: false,
        result: "Added the check.",
        num_turns: 4,
        usage: { input_tokens: 10, cache_read_input_tokens: 90, output_tokens: 30 },
      }),
    ).toEqual({
      level: "info",
      msg: "claude finished: Added the check.",
      result: "Added the check.",
      usage: { input_tokens: 100, output_tokens: 30 },
    });
    expect(p({ type: "result", subtype: "error_max_turns", is_error: true, usage: {} })?.level).toBe("error");
    expect(claudeAdapter.parseOutput("")).toBeUndefined();
    expect(claudeAdapter.parseOutput("plain text warning")).toEqual({
      level: "info",
      msg: "plain text warning",
    });
  });

  it("codex --json", () => {
    const p = (o: unknown) => codexAdapter.parseOutput(JSON.stringify(o));
    expect(p({ type: "thread.started", thread_id: "th_1" })?.level).toBe("debug");
    expect(p({ type: "turn.started" })).toBeUndefined();
    expect(
      p({
        type: "item.started",
        item: { id: "i1", type: "command_execution", command: "bash -lc 'npm test'", status: "in_progress" },
      }),
    ).toEqual({
      level: "info",
      msg: "$ bash -lc 'npm test'",
    });
    expect(
      p({
        type: "item.completed",
        item: {
          id: "i1",
          type: "command_execution",
          command: "npm test",
          exit_code: 1,
          aggregated_output: "1 failed",
        },
      }),
    ).toEqual({ level: "warn", msg: "exit 1: $ npm test\n1 failed" });
    expect(
      p({
        type: "item.completed",
        item: { type: "file_change", changes: [{ path: "src/a.ts", kind: "update" }] },
      }),
    ).toEqual({
      level: "info",
      msg: "edited: update src/a.ts",
    });
    expect(p({ type: "item.completed", item: { type: "agent_message", text: "Fixed it." } })).toEqual({
      level: "info",
      msg: "Fixed it.",
      result: "Fixed it.",
    });
    expect(
      p({ type: "turn.completed", usage: { input_tokens: 500, cached_input_tokens: 100, output_tokens: 50 } })
        ?.usage,
    ).toEqual({
      input_tokens: 500,
      output_tokens: 50,
    });
    expect(p({ type: "turn.failed", error: { message: "rate limited" } })).toEqual({
      level: "error",
      msg: "codex failed: rate limited",
    });
    expect(p({ id: "0", msg: { type: "agent_message", message: "old format" } })).toMatchObject({
      msg: "old format",
      result: "old format",
    });
  });

  it("gemini stream-json", () => {
    const p = (o: unknown) => geminiAdapter.parseOutput(JSON.stringify(o));
    expect(p({ type: "init", session_id: "s", model: "gemini-x" })).toEqual({
      level: "info",
      msg: "gemini started (model gemini-x)",
    });
    expect(p({ type: "message", role: "user", content: "prompt" })).toBeUndefined();
    expect(p({ type: "message", role: "assistant", content: "Looking", delta: true })).toEqual({
      level: "info",
      msg: "Looking",
      partial: true,
    });
    expect(
      p({
        type: "tool_use",
        tool_name: "run_shell_command",
        tool_id: "t",
        parameters: { command: "pytest -q" },
      }),
    ).toEqual({
      level: "info",
      msg: "→ run_shell_command $ pytest -q",
    });
    expect(p({ type: "tool_result", tool_id: "t", status: "error", error: { message: "boom" } })).toEqual({
      level: "warn",
      msg: "tool error: boom",
    });
    expect(p({ type: "result", status: "success", stats: { input_tokens: 7, output_tokens: 3 } })).toEqual({
      level: "info",
      msg: "gemini finished",
      usage: { input_tokens: 7, output_tokens: 3 },
    });
  });

  it("opencode --format json", () => {
    const p = (o: unknown) => opencodeAdapter.parseOutput(JSON.stringify(o));
    expect(p({ type: "step_start", sessionID: "s", part: { type: "step-start" } })).toBeUndefined();
    expect(p({ type: "text", part: { type: "text", text: "Done: added tests." } })).toEqual({
      level: "info",
      msg: "Done: added tests.",
      result: "Done: added tests.",
    });
    expect(
      p({ type: "tool_use", part: { tool: "bash", state: { status: "running", input: { command: "ls" } } } }),
    ).toBeUndefined();
    expect(
      p({
        type: "tool_use",
        part: { tool: "bash", state: { status: "completed", input: { command: "ls" } } },
      }),
    ).toEqual({
      level: "info",
      msg: "→ bash $ ls",
    });
    expect(
      p({
        type: "step_finish",
        part: { reason: "stop", tokens: { input: 40, output: 9, reasoning: 1, cache: { read: 10 } } },
      })?.usage,
    ).toEqual({
      input_tokens: 50,
      output_tokens: 10,
    });
    expect(p({ type: "error", error: { name: "APIError", data: { message: "bad key" } } })).toEqual({
      level: "error",
      msg: "opencode: bad key",
    });
  });
});
