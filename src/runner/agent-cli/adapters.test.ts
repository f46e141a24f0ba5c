import { describe, expect, it } from "vitest";
import { GimoError } from "../../core/errors.ts";
import { claudeAdapter } from "./claude.ts";
import { codexAdapter } from "./codex.ts";
import { geminiAdapter } from "./gemini.ts";
import { opencodeAdapter } from "./opencode.ts";
import { qwenAdapter } from "./qwen.ts";
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

  it("codex: exec --json, GIMO's sandbox instead of its own, the prompt after --, key in CODEX_API_KEY", () => {
    const { argv, env, apiHosts } = codexAdapter.buildCommand({ ...input, sandboxed: true });
    expect(argv.slice(0, 2)).toEqual(["codex", "exec"]);
    expect(argv).toContain("--json");
    expect(argv).toContain("--skip-git-repo-check");
    expect(argv).toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(argv).not.toContain("--full-auto"); // gone from codex exec (0.171 refuses it)
    expect(pair(argv, "-c", "check_for_update_on_startup=false")).toBe(true);
    expect(pair(argv, "-c", "analytics.enabled=false")).toBe(true);
    expect(pair(argv, "-m", "m-1")).toBe(true);
    expect(argv.slice(-2)).toEqual(["--", "Add validation"]);
    expect(env).toEqual({ CODEX_API_KEY: "sk-test" });
    expect(apiHosts).toEqual(["api.openai.com"]);
    const own = codexAdapter.buildCommand({ ...input, sandboxed: false }).argv;
    expect(pair(own, "--sandbox", "workspace-write")).toBe(true);
    expect(own).not.toContain("--dangerously-bypass-approvals-and-sandbox");
  });

  it("codex: a base URL becomes its own Responses provider, keyed by the same variable", () => {
    const { argv, apiHosts } = codexAdapter.buildCommand({ ...input, baseUrl: "http://127.0.0.1:9/v1/" });
    expect(pair(argv, "-c", "model_provider=gimo")).toBe(true);
    expect(
      pair(
        argv,
        "-c",
        'model_providers.gimo={name="GIMO",base_url="http://127.0.0.1:9/v1",env_key="CODEX_API_KEY",wire_api="responses"}',
      ),
    ).toBe(true);
    expect(apiHosts).toEqual([]);
  });

  it("gemini: --yolo, stream-json, -p prompt, key in GEMINI_API_KEY, API-key login from its settings", () => {
    const { argv, env, homeFiles } = geminiAdapter.buildCommand(input);
    expect(argv[0]).toBe("gemini");
    expect(argv).toContain("--yolo");
    expect(pair(argv, "--output-format", "stream-json")).toBe(true);
    expect(pair(argv, "-p", "Add validation")).toBe(true);
    expect(pair(argv, "-m", "m-1")).toBe(true);
    expect(env).toEqual({ GEMINI_API_KEY: "sk-test", GEMINI_CLI_TRUST_WORKSPACE: "true" });
    const settings = JSON.parse(homeFiles?.[".gemini/settings.json"] ?? "{}");
    expect(settings).toMatchObject({
      security: { auth: { selectedType: "gemini-api-key" } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    });
    const based = geminiAdapter.buildCommand({ ...input, baseUrl: "http://127.0.0.1:9/v1beta" });
    expect(based.env.GOOGLE_GEMINI_BASE_URL).toBe("http://127.0.0.1:9");
    expect(based.apiHosts).toEqual([]);
  });

  it("claude: a base URL without /v1 in ANTHROPIC_BASE_URL; telemetry and updates off", () => {
    const { env, apiHosts } = claudeAdapter.buildCommand({ ...input, baseUrl: "http://127.0.0.1:9/v1" });
    expect(env).toMatchObject({
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    });
    expect(apiHosts).toEqual([]);
  });

  it("opencode: run --format json, key by the model's provider", () => {
    const { argv, env } = opencodeAdapter.buildCommand({ ...input, model: "anthropic/claude-x" });
    expect(argv.slice(0, 4)).toEqual(["opencode", "run", "--format", "json"]);
    expect(pair(argv, "-m", "anthropic/claude-x")).toBe(true);
    expect(argv.at(-1)).toBe("Add validation");
    expect(env).toMatchObject({ ANTHROPIC_API_KEY: "sk-test", OPENCODE_DISABLE_AUTOUPDATE: "1" });
    expect(env.OPENCODE_DISABLE_MODELS_FETCH).toBeUndefined();
    expect(JSON.parse(env.OPENCODE_CONFIG_CONTENT ?? "{}")).toMatchObject({
      autoupdate: false,
      share: "disabled",
      permission: { edit: "allow", bash: "allow" },
    });
    expect(opencodeAdapter.buildCommand({ ...input, model: "openai/gpt-x" }).env).toMatchObject({
      OPENAI_API_KEY: "sk-test",
    });
    expect(() => opencodeAdapter.buildCommand({ ...input, model: "acme/x" })).toThrow(/options.apiKeyEnv/);
    expect(
      opencodeAdapter.buildCommand({ ...input, model: "acme/x", options: { apiKeyEnv: "ACME_KEY" } }).env,
    ).toMatchObject({ ACME_KEY: "sk-test" });
  });

  it("opencode: a base URL is served by GIMO's own OpenAI-compatible provider, nothing fetched", () => {
    const { argv, env, apiHosts } = opencodeAdapter.buildCommand({
      ...input,
      baseUrl: "http://127.0.0.1:9/v1",
    });
    expect(pair(argv, "-m", "gimo/m-1")).toBe(true);
    expect(env).toMatchObject({ OPENCODE_GIMO_API_KEY: "sk-test", OPENCODE_DISABLE_MODELS_FETCH: "1" });
    expect(JSON.parse(env.OPENCODE_CONFIG_CONTENT ?? "{}").provider).toEqual({
      gimo: {
        npm: "@ai-sdk/openai-compatible",
        name: "GIMO",
        options: { baseURL: "http://127.0.0.1:9/v1", apiKey: "{env:OPENCODE_GIMO_API_KEY}" },
        models: { "m-1": { name: "m-1" } },
      },
    });
    expect(apiHosts).toEqual([]);
  });

  it("opencode refuses, at configuration time, a model whose key variable it cannot tell", () => {
    expect(opencodeAdapter.refusal?.({ model: "acme/x" })).toMatch(
      /cannot tell which variable holds the API key/,
    );
    expect(opencodeAdapter.refusal?.({ model: "acme/x", baseUrl: "http://h/v1" })).toBeUndefined();
    expect(opencodeAdapter.refusal?.({ model: "acme/x", options: { apiKeyEnv: "K" } })).toBeUndefined();
    expect(opencodeAdapter.refusal?.({ model: "openai/gpt-x" })).toBeUndefined();
  });

  it("qwen: the OpenAI login, --yolo, stream-json, key and base URL in OPENAI_*; statistics off", () => {
    const { argv, env, homeFiles, apiHosts } = qwenAdapter.buildCommand({
      ...input,
      baseUrl: "http://127.0.0.1:9/v1",
    });
    expect(argv[0]).toBe("qwen");
    expect(pair(argv, "--auth-type", "openai")).toBe(true);
    expect(argv).toContain("--yolo");
    expect(pair(argv, "--output-format", "stream-json")).toBe(true);
    expect(pair(argv, "-m", "m-1")).toBe(true);
    expect(argv.at(-1)).toBe("Add validation");
    expect(env).toEqual({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: "http://127.0.0.1:9/v1" });
    expect(JSON.parse(homeFiles?.[".qwen/settings.json"] ?? "{}")).toMatchObject({
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    });
    expect(apiHosts).toEqual([]);
    expect(qwenAdapter.buildCommand(input).apiHosts).toEqual(["api.openai.com"]);
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
