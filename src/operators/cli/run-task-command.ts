import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfig } from "../../config.ts";
import { CliError } from "./exit-codes.ts";
import { confirm, interactive } from "./output.ts";

/**
 * `gimo run-task`: checks what would otherwise fail late — no terminal to approve on, no model —
 * before anything starts, then runs the pipeline (run-task.ts) with its approval asked on the
 * terminal. The exit code is the run's.
 */
const modelHelp =
  "run-task needs a planner and an executor model: pass --providers FILE (or set GIMO_PROVIDERS_FILE), a JSON file such as\n" +
  '  {"planner": {"type":"openai_compat","base_url":"https://api.openai.com/v1","model":"gpt-4.1","api_key":"${OPENAI_API_KEY}"},\n' +
  '   "executor": {"type":"openai_compat","base_url":"https://api.openai.com/v1","model":"gpt-4.1","api_key":"${OPENAI_API_KEY}"}}\n' +
  "(`gimo run-task --help` shows it again; `gimo demo` runs the pipeline with a scripted model)";

export async function runTaskCommand(
  prompt: string,
  opts: { repo: string; yes?: boolean; test?: string; providers?: string },
): Promise<void> {
  if (!prompt.trim()) throw new CliError("usage", 'say what to do: gimo run-task "…" --repo PATH');
  if (!opts.yes && !interactive())
    throw new CliError(
      "usage",
      "approving the plan needs a terminal to ask: pass --yes to approve without asking",
    );
  const env = { ...process.env, ...(opts.providers ? { GIMO_PROVIDERS_FILE: resolve(opts.providers) } : {}) };
  if (env.GIMO_PROVIDERS_FILE && !existsSync(env.GIMO_PROVIDERS_FILE))
    throw new CliError("usage", `no such providers file: ${env.GIMO_PROVIDERS_FILE}`);
  const config = loadConfig(env);
  const { MissingModel, runPipeline } = await import("./run-task.ts");
  const { run } = await runPipeline(
    config,
    { prompt, repoPath: opts.repo, yes: opts.yes === true, testCommand: opts.test },
    { write: (t) => process.stdout.write(t), ask: (q) => confirm(q), missingModel: modelHelp },
  ).catch((error: unknown) => {
    if (error instanceof MissingModel) throw new CliError("usage", error.message);
    throw error;
  });
  if (!run) throw new CliError("error", "not approved: nothing ran");
  if (run.status === "cancelled") throw new CliError("runCancelled", `run ${run.id} was cancelled`);
  if (run.status !== "succeeded") throw new CliError("runFailed", `run ${run.id} ${run.status}`);
}
