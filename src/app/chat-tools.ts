import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { z } from "@hono/zod-openapi";
import { Text } from "../contract/common.ts";
import { PlanContent } from "../contract/plan.ts";
import { idPattern } from "../core/ids.ts";
import { jsonSchemaOf } from "../llm/json.ts";
import type { ToolSpec } from "../llm/port.ts";
import type { AppContext } from "./context.ts";
import type { RunService } from "./runs.ts";
import type { TaskService } from "./tasks.ts";

/** What the read-only tools use (a narrow view of Services: app/ services never import services.ts back). */
export interface ChatToolServices {
  ctx: AppContext;
  tasks: TaskService;
  runs: RunService;
}

/**
 * The chat planner's tools. `propose_plan` is the only one that writes, and it writes a draft
 * through the drafts service like every other channel (the caller does that; here it is only
 * validated). The others read: tasks of the chat's project, a run's status, the tail of a run's
 * log, and a fixed-string search of the repository's base branch (`git grep` on the committed
 * tree, never the working directory; no shell). Results are capped so a tool cannot flood the
 * model's context. A bad call comes back as error text for the model to correct.
 */
export const ProposePlanArgs = z.object({ prompt: Text(4_000).trim().min(1), plan: PlanContent }).strict();
export type ProposePlanArgs = z.infer<typeof ProposePlanArgs>;

const RunArgs = z.object({ run_id: z.string().regex(idPattern("run"), "must be a run id (r_…)") }).strict();
const LogArgs = RunArgs.extend({ tail: z.number().int().min(1).max(200).default(40) }).strict();
const SearchArgs = z.object({ query: z.string().min(2).max(200) }).strict();
const ListArgs = z.object({ limit: z.number().int().min(1).max(20).default(10) }).strict();

export const chatToolSpecs = (): ToolSpec[] => [
  {
    name: "propose_plan",
    description:
      "Propose a plan for the person to confirm or cancel. Calling it again while a plan is pending makes the next revision of the same task.",
    parameters: jsonSchemaOf(ProposePlanArgs),
  },
  {
    name: "list_tasks",
    description: "The project's newest tasks with their status.",
    parameters: jsonSchemaOf(ListArgs),
  },
  {
    name: "get_run_status",
    description: "A run's status, steps and result.",
    parameters: jsonSchemaOf(RunArgs),
  },
  { name: "get_run_logs", description: "The last lines of a run's log.", parameters: jsonSchemaOf(LogArgs) },
  {
    name: "search_repository",
    description:
      "Fixed-string search in the repository's committed files (read-only); returns path:line: text.",
    parameters: jsonSchemaOf(SearchArgs),
  },
];

export type ToolOutcome = { ok: true; text: string } | { ok: false; text: string };

const MAX_TOOL_CHARS = 6_000;
const run = promisify(execFile);

/** Parses `propose_plan`'s arguments; the problem as text when they do not fit. */
export function parseProposal(
  args: unknown,
): { ok: true; value: ProposePlanArgs } | { ok: false; text: string } {
  const parsed = ProposePlanArgs.safeParse(args);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, text: `invalid propose_plan arguments: ${z.prettifyError(parsed.error)}` };
}

/** Runs one of the read-only tools. */
export async function runReadTool(
  services: ChatToolServices,
  project: { id: string; repo_path: string | null },
  name: string,
  args: unknown,
): Promise<ToolOutcome> {
  try {
    switch (name) {
      case "list_tasks": {
        const { limit } = ListArgs.parse(args ?? {});
        const page = await services.tasks.list({ project: project.id, limit });
        return capped(
          page.items.map((t) => `${t.id} ${t.status}: ${t.prompt.slice(0, 160)}`).join("\n") || "no tasks",
        );
      }
      case "get_run_status": {
        const { run_id } = RunArgs.parse(args);
        const r = await services.runs.get(run_id);
        if (r.project_id !== project.id)
          return { ok: false, text: `run ${run_id} belongs to another project` };
        return capped(
          JSON.stringify({ id: r.id, status: r.status, steps: r.steps, result: r.result, error: r.error }),
        );
      }
      case "get_run_logs": {
        const { run_id, tail } = LogArgs.parse(args);
        const r = await services.runs.get(run_id);
        if (r.project_id !== project.id)
          return { ok: false, text: `run ${run_id} belongs to another project` };
        const lines = await services.ctx.store.db
          .selectFrom("run_logs")
          .select(["ts", "level", "msg"])
          .where("run_id", "=", run_id)
          .orderBy("seq", "desc")
          .limit(tail)
          .execute();
        const text = lines
          .reverse()
          .map((l) => `${l.ts} ${l.level} ${l.msg}`)
          .join("\n");
        return capped(text || "no log lines yet");
      }
      case "search_repository": {
        const { query } = SearchArgs.parse(args);
        if (!project.repo_path)
          return { ok: false, text: "this project's repository is not available locally" };
        return capped(await grepHead(project.repo_path, query));
      }
      default:
        return {
          ok: false,
          text: `there is no tool ${name}; the tools are ${chatToolSpecs()
            .map((t) => t.name)
            .join(", ")}`,
        };
    }
  } catch (error) {
    if (error instanceof z.ZodError)
      return { ok: false, text: `invalid arguments for ${name}: ${z.prettifyError(error)}` };
    return { ok: false, text: `${name} failed: ${(error as Error).message}` };
  }
}

/** `git grep` over the committed tree of HEAD: no working directory, no hooks, no pager. */
async function grepHead(repoPath: string, query: string): Promise<string> {
  try {
    const { stdout } = await run(
      "git",
      [
        "-C",
        repoPath,
        "-c",
        "core.fsmonitor=false",
        "--no-pager",
        "grep",
        "-n",
        "-I",
        "-F",
        "--max-count=5",
        "-e",
        query,
        "HEAD",
        "--",
      ],
      { maxBuffer: 4 * 1024 * 1024, timeout: 10_000 },
    );
    return stdout
      .split("\n")
      .filter(Boolean)
      .slice(0, 60)
      .map((l) => (l.startsWith("HEAD:") ? l.slice(5) : l))
      .join("\n");
  } catch (error) {
    if ((error as { code?: unknown }).code === 1) return "no matches";
    throw new Error("the search could not run");
  }
}

function capped(text: string): ToolOutcome {
  return {
    ok: true,
    text: text.length > MAX_TOOL_CHARS ? `${text.slice(0, MAX_TOOL_CHARS)}\n… (cut)` : text,
  };
}
