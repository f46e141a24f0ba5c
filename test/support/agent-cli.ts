import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { DEMO_PLAN, demoModel } from "../../src/demo/model-script.ts";
import { embeddedExecutorDeps } from "../../src/embedded/executor-deps.ts";
import type { ScriptedReply } from "../../src/llm/scripted-replies.ts";
import type { ReceivedRequest, ScriptedModel } from "../../src/llm/scripted-server.ts";
import { startScriptedModel } from "../../src/llm/scripted-server.ts";
import type { AgentCliKind } from "../../src/runner/agent-cli/adapter.ts";
import { adapters } from "../../src/runner/agent-cli/registry.ts";
import { createExecutor } from "../../src/runner/executor.ts";
import { startGimo, type TestGimo } from "./harness.ts";
import { queueApprovedRun, runEnded } from "./runs.ts";

/**
 * The real coding-agent CLIs (`npm run agent-clis`: @anthropic-ai/claude-code, @openai/codex,
 * @google/gemini-cli, opencode-ai, @qwen-code/qwen-code) driven by the scripted model server in
 * the dialect each speaks. `fixScript` plays a very small model that uses the CLI's OWN tools:
 * its shell tool (`echo WORKSPACE=$PWD; node calc.test.js`, to see the failure and where it
 * is), then its read tool (edit tools refuse a file not read first), then its edit tool — or `sed`
 * through the shell when it has no edit tool the model can use — then a final answer. Requests that offer no shell tool (title or memory helpers some CLIs run on
 * the side) get a short text.
 */
const run = promisify(execFile);

export const CALC = "export function add(a, b) {\n  return a - b;\n}\n";
export const CALC_TEST = `import { add } from "./calc.js";
const ok = add(2, 3) === 5;
console.log(ok ? "1 passed, 0 failed" : "0 passed, 1 failed: add(2, 3) should be 5");
process.exit(ok ? 0 : 1);
`;
export const FINAL_ANSWER = "Fixed add(): it subtracted instead of adding.";
/** Usage each scripted reply reports, so the run's totals can be checked. */
export const REPLY_USAGE = { prompt_tokens: 1_000, completion_tokens: 50 };

/** The installed CLI, or undefined (the suite then fails in CI and says why elsewhere). */
export function cliBinary(kind: AgentCliKind): string | undefined {
  const path = resolve(import.meta.dirname, "../../node_modules/.bin", adapters[kind].binary);
  return existsSync(path) ? path : undefined;
}

interface ToolShape {
  shell: string;
  shellArgs: (command: string) => Record<string, unknown>;
  /** The read tool's call for `file` (absolute). */
  read?: (file: string) => Call;
  /** The edit tool's call for `file` (absolute), or undefined to edit with `sed` through the shell. */
  edit?: (file: string) => Call;
}
type Call = { name: string; args: Record<string, unknown> };

const replace = { from: "return a - b;", to: "return a + b;" };

export const TOOL_SHAPES: Record<AgentCliKind, ToolShape> = {
  claude: {
    shell: "Bash",
    shellArgs: (command) => ({ command, description: "run the tests" }),
    read: (file) => ({ name: "Read", args: { file_path: file } }),
    edit: (file) => ({
      name: "Edit",
      args: { file_path: file, old_string: replace.from, new_string: replace.to },
    }),
  },
  // Codex offers only its shell (`exec_command`) to a model it has no metadata for.
  codex: { shell: "exec_command", shellArgs: (cmd) => ({ cmd }) },
  gemini: {
    shell: "run_shell_command",
    shellArgs: (command) => ({ command, description: "run the tests" }),
    read: (file) => ({ name: "read_file", args: { file_path: file } }),
    edit: (file) => ({
      name: "replace",
      args: {
        file_path: file,
        old_string: replace.from,
        new_string: replace.to,
        instruction: "make add add",
      },
    }),
  },
  opencode: {
    shell: "bash",
    shellArgs: (command) => ({ command, description: "run the tests" }),
    read: (file) => ({ name: "read", args: { filePath: file } }),
    edit: (file) => ({
      name: "edit",
      args: { filePath: file, oldString: replace.from, newString: replace.to },
    }),
  },
  qwen: {
    shell: "run_shell_command",
    shellArgs: (command) => ({ command, description: "run the tests" }),
    read: (file) => ({ name: "read_file", args: { file_path: file } }),
    edit: (file) => ({
      name: "edit",
      args: { file_path: file, old_string: replace.from, new_string: replace.to },
    }),
  },
};

/** The scripted model's side of the fix, for `kind`'s tools; each reply reports `REPLY_USAGE`. */
export function fixScript(kind: AgentCliKind): (req: ReceivedRequest) => ScriptedReply {
  const shape = TOOL_SHAPES[kind];
  return (req) => {
    if (!req.turn.tools.includes(shape.shell)) return { text: "Fix add() in calc.js" };
    const outputs = req.turn.toolOutputs;
    const usage = REPLY_USAGE;
    if (outputs.length === 0) {
      const command = "echo WORKSPACE=$PWD; node calc.test.js";
      return {
        text: "Running the tests first.",
        toolCalls: [{ name: shape.shell, args: shape.shellArgs(command) }],
        usage,
      };
    }
    const workspace = /WORKSPACE=(\/[^\s"\\]+)/.exec(outputs[0] ?? "")?.[1];
    if (!workspace) return { text: `no workspace in the tool output: ${outputs[0]}`, usage };
    const file = join(workspace, "calc.js");
    const sed = {
      name: shape.shell,
      args: shape.shellArgs(`sed -i 's/${replace.from}/${replace.to}/' calc.js`),
    };
    const next = [...(shape.read ? [shape.read(file)] : []), shape.edit?.(file) ?? sed][outputs.length - 1];
    if (next) return { toolCalls: [next], usage };
    return { text: FINAL_ANSWER, usage };
  };
}

export interface CliSuite {
  g: TestGimo;
  model: ScriptedModel;
  /** What the model does next; a test may replace it. */
  respond: (req: ReceivedRequest) => ScriptedReply | Promise<ScriptedReply>;
  runPlan(plan?: unknown): Promise<RunView>;
  remoteLog(branch: string): Promise<string>;
  logs(runId: string): Promise<Array<{ level: string; msg: string }>>;
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: a run as the API returns it
export type RunView = any;

/**
 * A real GIMO (SQLite, the embedded runner, the real bubblewrap sandbox, real git with a bare
 * remote) on the sample repository, its executor the `kind` CLI talking to a scripted model — or,
 * for `"gimo"`, GIMO's own agent loop on the same scripted model (the demo's script).
 */
export async function startCliSuite(kind: AgentCliKind | "gimo", command = ""): Promise<CliSuite> {
  const suite = {} as CliSuite;
  suite.respond = kind === "gimo" ? demoModel : fixScript(kind);
  const model = await startScriptedModel({ respond: (req) => suite.respond(req) });
  const g = await startGimo(
    "sqlite",
    { sandbox: "on", leaseSeconds: 10 },
    { runHandler: (services) => createExecutor(embeddedExecutorDeps(services, () => {})) },
  );
  writeFileSync(join(g.repo.path, "calc.js"), CALC);
  writeFileSync(join(g.repo.path, "calc.test.js"), CALC_TEST);
  writeFileSync(join(g.repo.path, "package.json"), '{"type":"module"}\n');
  await g.repo.git("add", ".");
  await g.repo.git("commit", "-q", "-m", "calc with a bug");
  await g.repo.git("push", "-q", "origin", "main");
  const planner = { type: "openai_compat", base_url: model.url, model: "scripted-model" };
  const executor =
    kind === "gimo"
      ? planner
      : {
          type: "agent_cli",
          model: "scripted-model",
          base_url: model.url,
          api_key: "sk-scripted-agent-cli-key",
          options: { cli: kind, command },
        };
  const put = await g.request("PUT", "/ops/provider", { body: { planner, executor } });
  if (put.status !== 200) throw new Error(`PUT /ops/provider: ${put.status} ${put.text}`);
  await g.request("PATCH", `/ops/projects/${g.projectId}`, {
    body: { test_command: "node calc.test.js", budgets: { max_fix_iterations: 1 } },
  });

  Object.assign(suite, {
    g,
    model,
    runPlan: async (plan: unknown = DEMO_PLAN) => runEnded(g, await queueApprovedRun(g, plan), 300_000),
    async remoteLog(branch: string) {
      return (await run("git", ["-C", g.repo.remotePath, "log", "-1", "--format=%B", branch])).stdout;
    },
    async logs(runId: string) {
      return (await g.request("GET", `/ops/runs/${runId}/logs?limit=1000`)).body.items;
    },
    async close() {
      await g.close();
      await model.close();
    },
  });
  return suite;
}
