import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadConfig } from "../../config.ts";
import { createDemoRepo } from "../../demo/fixture.ts";
import { demoModel } from "../../demo/model-script.ts";
import { startScriptedModel } from "../../llm/scripted-server.ts";
import { type PipelineOutput, runPipeline } from "./run-task.ts";

const run = promisify(execFile);

/**
 * `gimo demo`: the whole product, offline, in under a minute. A temporary repository with a failing
 * test and a bare remote; a scripted model standing in for the planner and the executor; then the
 * real pipeline — plan, approval, worktree, sandbox, edit → test, commit, push — and the branch,
 * its diff and the green tests printed at the end. Nothing outside the temporary directory changes.
 */
export async function runDemo(out: PipelineOutput, opts: { keep?: boolean } = {}): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), "gimo-demo-"));
  const model = await startScriptedModel({ respond: demoModel });
  try {
    const repo = await createDemoRepo(root);
    out.write(`Demo repository: ${repo.path} (origin: ${repo.remote})\n`);
    const before = await tests(repo.path);
    out.write(`Its tests fail before GIMO: ${before.trim().split("\n").at(-1)}\n`);
    out.write(
      "The demo approves the plan itself, as `gimo run-task --yes` does; without --yes you are asked.\n",
    );
    const providers = join(root, "providers.json");
    const provider = { type: "openai_compat", base_url: model.url, model: "scripted-model" };
    writeFileSync(providers, JSON.stringify({ planner: provider, executor: provider }));
    const sandbox = existsSync("/usr/bin/bwrap") || existsSync("/bin/bwrap") ? "on" : "off";
    if (sandbox === "off")
      out.write("! bubblewrap is not installed: the demo runs commands without a sandbox\n");
    const config = loadConfig(
      {
        GIMO_DATA_DIR: join(root, ".orch_data"),
        GIMO_PROVIDERS_FILE: providers,
        GIMO_SANDBOX: sandbox,
        GIMO_RATE_LIMIT_RPS: "0",
      },
      { port: 0 },
    );
    const { run: result } = await runPipeline(
      config,
      {
        prompt: "The tests say add() is broken. Fix it.",
        repoPath: repo.path,
        yes: true,
        // No link template: a run's link is http(s) only, and this remote is a local bare
        // repository — the branch in it is shown below instead.
        testCommand: "node calc.test.js",
      },
      out,
    );
    if (result?.status !== "succeeded" || !result.result?.branch) return 1;
    const branch = result.result.branch;
    const { stdout: diff } = await run("git", ["-C", repo.remote, "show", "--format=%H%n%s%n%n%b", branch]);
    out.write(`\nThe task branch ${branch} in the remote:\n${diff}\n`);
    const { stdout: mainLog } = await run("git", ["-C", repo.remote, "log", "--oneline", "main"]);
    out.write(`main is untouched:\n${mainLog}\n`);
    const wt = join(root, "check");
    await run("git", ["clone", "-q", "--branch", branch, repo.remote, wt]);
    out.write(`The tests on ${branch}:\n${await tests(wt)}\n`);
    return 0;
  } finally {
    await model.close();
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
    else out.write(`Kept: ${root}\n`);
  }
}

async function tests(dir: string): Promise<string> {
  try {
    return (await run("node", ["calc.test.js"], { cwd: dir })).stdout;
  } catch (error) {
    return (error as { stdout?: string }).stdout ?? String(error);
  }
}
