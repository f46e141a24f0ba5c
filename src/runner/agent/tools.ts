import { z } from "zod";
import type { CallOutcome, IntegrationTool } from "../../contract/integration.ts";
import { checkCommand } from "../../core/command-policy.ts";
import { describeZodError, jsonSchemaOf } from "../../llm/json.ts";
import type { ToolSpec } from "../../llm/port.ts";
import type { RunContext } from "../handler.ts";
import { RunFailed } from "../run-failed.ts";
import type { CommandResult, Sandbox, SandboxSpec } from "../sandbox/sandbox.ts";
import { confine } from "./paths.ts";
import type { WorkspaceFs } from "./workspace-fs.ts";

/**
 * The executor's tools. Files are read and written by GIMO itself, confined to the workspace
 * (paths.ts) and never through a symlink (workspace-fs.ts); every command — `run_command`,
 * `run_tests`, `search` — passes the command policy and runs inside the sandbox with a timeout (cut
 * to the run's remaining wall budget), an output cap and the run's limits. A tool never throws at
 * the model: it answers with text, marked as an error when the call failed, so it can correct itself
 * — except a `RunFailed` (a command passed a limit that ends the run), which ends the run.
 */
export interface ToolContext {
  files: WorkspaceFs;
  /** The workspace's path (commands see it at the same path). */
  workspace: string;
  sandbox: Sandbox;
  /** The sandbox settings for the next command (network, env, limits, timeout cut to the budget). */
  sandboxSpec(): SandboxSpec;
  testCommand: string | undefined;
  protectedBranches: string[];
  signal?: AbortSignal;
  /** Called with every command's output as it arrives (the run's live log). */
  onOutput?: (chunk: string) => void;
  /** The integration operations allow-listed for the run's project, and how to call them (the server's gateway). */
  integrations?: {
    tools: IntegrationTool[];
    call: NonNullable<RunContext["integrations"]>["call"];
  };
}

export interface ToolOutcome {
  content: string;
  isError: boolean;
  /** Set by `finish`: the agent declares the work done. */
  finished?: { summary: string };
  /** Set by `run_tests`: the test command's result. */
  tests?: CommandResult;
  /** Set by an integration tool: the gateway's outcome (for the run's log line). */
  integration?: CallOutcome;
}

interface Tool<A> {
  spec: ToolSpec;
  args: z.ZodType<A>;
  run(args: A, ctx: ToolContext): Promise<ToolOutcome>;
}

const MAX_READ = 100_000;
/** The most of a file read_file and edit_file load. */
const MAX_FILE = 4_000_000;
const MAX_LIST = 400;

function tool<A>(name: string, description: string, args: z.ZodType<A>, run: Tool<A>["run"]): Tool<A> {
  return { spec: { name, description, parameters: jsonSchemaOf(args) }, args, run };
}

const ok = (content: string): ToolOutcome => ({ content, isError: false });
const fail = (content: string): ToolOutcome => ({ content, isError: true });

const listFiles = tool(
  "list_files",
  "List files and directories under a path of the workspace (default: its root), up to `depth` levels.",
  z.object({ path: z.string().default("."), depth: z.number().int().min(1).max(6).default(2) }),
  async ({ path, depth }, ctx) => {
    const { relative } = confine(path, [ctx.workspace]);
    const out: string[] = [];
    const walk = async (dir: string, prefix: string, level: number) => {
      const entries = (await ctx.files.list(dir)).sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (e.name === ".git" || e.name === "node_modules" || out.length >= MAX_LIST) continue;
        const link = e.isSymbolicLink() ? " (symlink)" : "";
        out.push(`${prefix}${e.name}${e.isDirectory() ? "/" : ""}${link}`);
        if (e.isDirectory() && level < depth)
          await walk(`${dir}/${e.name}`, `${prefix}${e.name}/`, level + 1);
      }
    };
    await walk(relative, "", 1);
    return ok(out.length === 0 ? "(empty)" : `${out.join("\n")}${out.length >= MAX_LIST ? "\n…(more)" : ""}`);
  },
);

const readFileTool = tool(
  "read_file",
  "Read a text file of the workspace, optionally only lines start_line..end_line (1-based).",
  z.object({
    path: z.string(),
    start_line: z.number().int().min(1).optional(),
    end_line: z.number().int().min(1).optional(),
  }),
  async ({ path, start_line, end_line }, ctx) => {
    const { relative } = confine(path, [ctx.workspace]);
    const { text, size } = await ctx.files.read(relative, MAX_FILE);
    if (size > MAX_FILE) return fail(`${relative} is ${size} bytes; read_file reads files up to ${MAX_FILE}`);
    const lines = text.split("\n");
    const from = (start_line ?? 1) - 1;
    const to = end_line ?? lines.length;
    const body = lines.slice(from, to).join("\n");
    return ok(body.length > MAX_READ ? `${body.slice(0, MAX_READ)}\n…(truncated; read a line range)` : body);
  },
);

const searchTool = tool(
  "search",
  "Search the workspace for a regular expression (ripgrep); answers file:line:text matches.",
  z.object({ pattern: z.string().min(1).max(500), path: z.string().default(".") }),
  async ({ pattern, path }, ctx) => {
    const { relative } = confine(path, [ctx.workspace]);
    const result = await ctx.sandbox.runArgv(
      ["rg", "--line-number", "--no-heading", "--max-count", "50", "--", pattern, relative],
      ctx.sandboxSpec(),
      { signal: ctx.signal },
    );
    if (result.exitCode === 1) return ok("no matches");
    if (result.exitCode !== 0) return fail(`search failed: ${result.output.slice(0, 2_000)}`);
    return ok(result.output);
  },
);

const writeFileTool = tool(
  "write_file",
  "Create or overwrite a file of the workspace with the given content.",
  z.object({ path: z.string(), content: z.string().max(2_000_000) }),
  async ({ path, content }, ctx) => {
    const { relative } = confine(path, [ctx.workspace]);
    await ctx.files.write(relative, content);
    return ok(`wrote ${relative} (${content.length} characters)`);
  },
);

const editFile = tool(
  "edit_file",
  "Replace exactly one occurrence of `search` with `replace` in a file. `search` must appear exactly once: include enough surrounding lines to make it unique.",
  z.object({ path: z.string(), search: z.string().min(1), replace: z.string() }),
  async ({ path, search, replace }, ctx) => {
    const { relative } = confine(path, [ctx.workspace]);
    const file = await ctx.files.read(relative, MAX_FILE).catch((error: Error) => {
      if ((error as { code?: string }).code === "not_found") return undefined;
      throw error;
    });
    if (file === undefined) return fail(`${relative} does not exist; use write_file to create it`);
    if (file.size > MAX_FILE)
      return fail(`${relative} is ${file.size} bytes; edit_file edits files up to ${MAX_FILE}`);
    const { text } = file;
    const first = text.indexOf(search);
    if (first < 0)
      return fail(`the search text was not found in ${relative}; read the file and copy the text exactly`);
    if (text.indexOf(search, first + 1) >= 0) {
      return fail(
        `the search text appears more than once in ${relative}; include more surrounding lines so it is unique`,
      );
    }
    await ctx.files.write(relative, text.slice(0, first) + replace + text.slice(first + search.length));
    return ok(`edited ${relative}`);
  },
);

const runCommand = tool(
  "run_command",
  "Run a shell command in the workspace (sandboxed: no network unless the project allows it; git push/merge are refused — GIMO does the git work).",
  z.object({ command: z.string().min(1).max(4_000) }),
  async ({ command }, ctx) => {
    const verdict = checkCommand(command, {
      workspace: ctx.workspace,
      protectedBranches: ctx.protectedBranches,
    });
    if (!verdict.allowed) return fail(`refused by the command policy (${verdict.rule}): ${verdict.reason}`);
    const result = await ctx.sandbox.run(command, ctx.sandboxSpec(), {
      signal: ctx.signal,
      onOutput: ctx.onOutput,
    });
    return { content: describe(result), isError: result.exitCode !== 0 };
  },
);

const runTests = tool(
  "run_tests",
  "Run the project's test command and see its result.",
  z.object({}),
  async (_args, ctx) => {
    if (!ctx.testCommand) return ok("this project has no test command");
    const result = await ctx.sandbox.run(ctx.testCommand, ctx.sandboxSpec(), {
      signal: ctx.signal,
      onOutput: ctx.onOutput,
    });
    return { content: describe(result), isError: result.exitCode !== 0, tests: result };
  },
);

const finish = tool(
  "finish",
  "Declare the step done, with a short summary of what you changed and why.",
  z.object({ summary: z.string().min(1).max(4_000) }),
  async ({ summary }) => ({ content: "ok", isError: false, finished: { summary } }),
);

export const TOOLS = [
  listFiles,
  readFileTool,
  searchTool,
  writeFileTool,
  editFile,
  runCommand,
  runTests,
  finish,
] as Tool<unknown>[];

/** The built-in tools, then the integration operations allow-listed for the run (named `<integration>__<operation>`). */
export const toolSpecs = (ctx?: Pick<ToolContext, "integrations">): ToolSpec[] => [
  ...TOOLS.map((t) => t.spec),
  ...(ctx?.integrations?.tools ?? []).map(({ name, description, parameters }) => ({
    name,
    description,
    parameters,
  })),
];

/** Runs one tool call; unknown tools, bad arguments and failures come back as error text. */
export async function callTool(name: string, rawArgs: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  const integration = ctx.integrations?.tools.find((x) => x.name === name);
  if (integration && ctx.integrations) return callIntegration(integration, rawArgs, ctx);
  const t = TOOLS.find((x) => x.spec.name === name);
  if (!t)
    return fail(
      `there is no tool ${name}; the tools are ${toolSpecs(ctx)
        .map((x) => x.name)
        .join(", ")}`,
    );
  const parsed = t.args.safeParse(rawArgs ?? {});
  if (!parsed.success) return fail(`bad arguments for ${name}: ${describeZodError(parsed.error)}`);
  try {
    return await t.run(parsed.data, ctx);
  } catch (error) {
    if (error instanceof RunFailed) throw error; // the run itself must end (a limit was passed)
    return fail(error instanceof Error ? error.message : String(error));
  }
}

/**
 * An integration operation: the server's gateway checks the allow-list, validates the arguments
 * against the discovered schema, calls with a timeout and a size cap, and audits the call; the
 * agent sees its outcome. A transport failure reaching GIMO's server is an error for the model too.
 */
async function callIntegration(
  tool: IntegrationTool,
  rawArgs: unknown,
  ctx: ToolContext,
): Promise<ToolOutcome> {
  const args = rawArgs ?? {};
  if (typeof args !== "object" || Array.isArray(args))
    return fail(`the arguments of ${tool.name} must be an object`);
  try {
    const outcome = await (ctx.integrations as NonNullable<ToolContext["integrations"]>).call(
      { integration: tool.integration, operation: tool.operation, args: args as Record<string, unknown> },
      ctx.signal,
    );
    const head = outcome.ok ? "" : `${outcome.status}: `;
    return { content: `${head}${outcome.content}`, isError: !outcome.ok, integration: outcome };
  } catch (error) {
    return fail(`${tool.integration}.${tool.operation} could not be called: ${(error as Error).message}`);
  }
}

export function describe(result: CommandResult): string {
  const head = result.timedOut
    ? "timed out"
    : result.exitCode === null
      ? `killed by ${result.signal}`
      : `exit code ${result.exitCode}`;
  return `${head}${result.truncated ? " (output truncated)" : ""}\n${result.output}`;
}
