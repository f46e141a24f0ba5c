import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemPrincipal } from "../src/core/roles.ts";
import { DEMO_PLAN, demoModel } from "../src/demo/model-script.ts";
import { embeddedExecutorDeps } from "../src/embedded/executor-deps.ts";
import type { ScriptedReply } from "../src/llm/scripted-replies.ts";
import type { ReceivedRequest, ScriptedModel } from "../src/llm/scripted-server.ts";
import { startScriptedModel } from "../src/llm/scripted-server.ts";
import { createExecutor } from "../src/runner/executor.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { eventually, queueApprovedRun, runEnded } from "./support/runs.ts";

/**
 * The executor end to end: real git and a bare remote, real bubblewrap, the real openai_compat
 * adapter talking to a scripted model, the embedded runner claiming from the real queue.
 */
const run = promisify(execFile);

const CALC = "export function add(a, b) {\n  return a - b;\n}\n";
const TEST = `import { add } from "./calc.js";
const ok = add(2, 3) === 5;
console.log(ok ? "1 passed, 0 failed" : "0 passed, 1 failed: add(2, 3) should be 5");
process.exit(ok ? 0 : 1);
`;

describe("the executor", () => {
  let g: TestGimo;
  let model: ScriptedModel;
  let respond: (req: ReceivedRequest) => ScriptedReply = demoModel;

  beforeAll(async () => {
    model = await startScriptedModel({ respond: (req) => respond(req) });
    g = await startGimo(
      "sqlite",
      { sandbox: "on", leaseSeconds: 10 },
      {
        runHandler: (services) => createExecutor(embeddedExecutorDeps(services, () => {})),
      },
    );
    writeFileSync(join(g.repo.path, "calc.js"), CALC);
    writeFileSync(join(g.repo.path, "calc.test.js"), TEST);
    writeFileSync(join(g.repo.path, "package.json"), '{"type":"module"}\n');
    // A stand-in for Claude Code: edits the file and prints stream-json lines as the real CLI does.
    writeFileSync(
      join(g.repo.path, "fake-claude.sh"),
      `#!/bin/sh
sed -i 's/return a - b;/return a + b;/' calc.js
echo '{"type":"assistant","message":{"content":[{"type":"text","text":"fixing add in calc.js"}]}}'
echo '{"type":"result","subtype":"success","result":"add() fixed","usage":{"input_tokens":12,"output_tokens":7}}'
`,
      { mode: 0o755 },
    );
    await g.repo.git("add", ".");
    await g.repo.git("commit", "-q", "-m", "calc with a bug");
    await g.repo.git("push", "-q", "origin", "main");
    const provider = { type: "openai_compat", base_url: model.url, model: "scripted" };
    await g.request("PUT", "/ops/provider", { body: { planner: provider, executor: provider } });
    await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: {
        test_command: "node calc.test.js",
        link_template: "https://git.example.com/calc/tree/{branch}",
        budgets: { max_fix_iterations: 2 },
      },
    });
  });
  afterAll(async () => {
    await g?.close();
    await model?.close();
  });

  const runPlan = async (plan: unknown = DEMO_PLAN) => runEnded(g, await queueApprovedRun(g, plan), 60_000);

  const remoteBranches = async () =>
    (await run("git", ["-C", g.repo.remotePath, "branch", "--format=%(refname:short)"])).stdout
      .trim()
      .split("\n");
  const remoteMain = async () =>
    (await run("git", ["-C", g.repo.remotePath, "rev-parse", "main"])).stdout.trim();

  it("fixes a real failing test through tool calls and pushes a task branch with both trailers", async () => {
    respond = demoModel;
    const mainBefore = await remoteMain();
    const result = await runPlan();
    expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
    const r = result.result;
    expect(r.branch).toBe(`task/${result.task_id}`);
    expect(r.pushed).toBe(true);
    expect(r.link).toBe(`https://git.example.com/calc/tree/task/${result.task_id}`);
    expect(r.tests).toMatchObject({ command: "node calc.test.js", exit_code: 0, passed: 1, failed: 0 });
    expect(r.file_changes).toEqual([{ path: "calc.js", status: "modified", insertions: 1, deletions: 1 }]);
    expect(r.commits).toHaveLength(1);
    expect(await remoteBranches()).toContain(r.branch);
    expect(await remoteMain()).toBe(mainBefore);
    const { stdout: message } = await run("git", [
      "-C",
      g.repo.remotePath,
      "log",
      "-1",
      "--format=%B",
      r.branch,
    ]);
    expect(message).toContain(`Gimo-Run: ${result.id}`);
    expect(message).toMatch(new RegExp(`Gimo-Approved: ${result.approved_id} sha256:[0-9a-f]{64}`));
    const { stdout: count } = await run("git", [
      "-C",
      g.repo.remotePath,
      "rev-list",
      "--count",
      `main..${r.branch}`,
    ]);
    expect(count.trim()).toBe("1");
    const logs = await g.request("GET", `/ops/runs/${result.id}/logs?limit=1000`);
    const text = logs.body.items.map((l: { msg: string }) => l.msg).join("\n");
    expect(text).toContain("tool edit_file");
    expect(text).toContain("tool run_tests");
    expect(text).toMatch(
      /sandbox: bubblewrap: (uid \d+|GIMO's uid \d+) in a user namespace, no capabilities; no network/,
    );
    // Each line belongs to the step that was running when it was written; finished steps show their attempts.
    const stepOf = (prefix: string) =>
      logs.body.items.find((l: { msg: string }) => l.msg.startsWith(prefix))?.step_id;
    expect(stepOf("tool edit_file")).toBe("s1");
    expect(stepOf("running the tests")).toBe("s2");
    expect(
      result.steps.map((s: { id: string; status: string; attempts: number }) => [s.id, s.status, s.attempts]),
    ).toEqual([
      ["s1", "succeeded", 1],
      ["s2", "succeeded", 1],
    ]);
  });

  it("fails after max_fix_iterations when the model never fixes the test, with the last output", async () => {
    respond = (req) => {
      const last = req.body.messages?.at(-1);
      return last?.role === "tool"
        ? { toolCalls: [{ name: "finish", args: { summary: "looked at it" } }] }
        : {
            toolCalls: [
              { name: "list_files", args: { path: `.`, depth: 1 + ((req.body.messages?.length ?? 0) % 3) } },
            ],
          };
    };
    const result = await runPlan();
    expect(result.status).toBe("failed");
    expect(result.error.code).toBe("tests_failed");
    expect(result.result.tests.output_tail).toContain("add(2, 3) should be 5");
  });

  it("stops a looping model with the stuck detector", async () => {
    respond = () => ({ toolCalls: [{ name: "read_file", args: { path: "calc.js" } }] });
    const result = await runPlan();
    expect(result.status).toBe("failed");
    expect(result.error.code).toBe("stuck");
    // The step the agent was stuck in failed (never `succeeded`); the one never reached was skipped.
    expect(
      result.steps.map((s: { id: string; status: string; attempts: number }) => [s.id, s.status, s.attempts]),
    ).toEqual([
      ["s1", "failed", 1],
      ["s2", "skipped", 0],
    ]);
    expect(result.steps[0].detail).toMatch(/the agent repeated read_file/);
  });

  it("ends a run that overruns its budget with budget_exceeded", async () => {
    let n = 0;
    respond = () => ({
      toolCalls: [{ name: "list_files", args: { path: ".", depth: 1 + (n++ % 5) } }],
      usage: { prompt_tokens: 10, completion_tokens: 10 },
    });
    const result = await runPlan({ ...DEMO_PLAN, budgets: { max_turns: 3 } });
    expect(result.status).toBe("failed");
    expect(result.error.code).toBe("budget_exceeded");
  });

  it("runs a coding-agent CLI as the executor, in the sandbox, and does the git work itself", async () => {
    const provider = { type: "openai_compat", base_url: model.url, model: "scripted" };
    const cli = {
      type: "agent_cli",
      model: "sonnet",
      options: { cli: "claude", command: "./fake-claude.sh" },
    };
    await g.request("PUT", "/ops/provider", { body: { planner: provider, executor: cli } });
    try {
      const result = await runPlan();
      expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
      expect(result.result.file_changes.map((f: { path: string }) => f.path)).toEqual(["calc.js"]);
      expect(result.result.tests.exit_code).toBe(0);
      const logs = await g.request("GET", `/ops/runs/${result.id}/logs?limit=1000`);
      expect(logs.text).toContain("running claude as the executor");
      expect(logs.text).toContain("fixing add in calc.js");
    } finally {
      await g.request("PUT", "/ops/provider", { body: { planner: provider, executor: provider } });
    }
  });

  it("fails a run whose approved plan changed after approval (approval_drift)", async () => {
    respond = demoModel;
    const { drafts, ctx } = g.gimo.services;
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: 1 } });
    const draft = await drafts.create(systemPrincipal, { prompt: "drift", plan: DEMO_PLAN as never });
    const { approved } = await drafts.approve(systemPrincipal, draft.id, { auto_run: false });
    const tampered = JSON.stringify({ ...DEMO_PLAN, title: "Something else entirely" });
    await ctx.store.db
      .updateTable("approved")
      .set({ plan: tampered })
      .where("id", "=", approved.id)
      .execute();
    const created = await g.request("POST", "/ops/runs", {
      role: "operator",
      body: { approved_id: approved.id },
    });
    const result = await eventually(
      async () => {
        const r = await g.request("GET", `/ops/runs/${created.body.id}`);
        return ["succeeded", "failed"].includes(r.body.status) ? r.body : undefined;
      },
      30_000,
      200,
    );
    expect(result.status).toBe("failed");
    expect(result.error.code).toBe("approval_drift");
  });

  it("skips a stored link_template that does not render to an http(s) URL, with a warning", async () => {
    respond = demoModel;
    const { ctx } = g.gimo.services;
    const row = await ctx.store.db
      .selectFrom("projects")
      .select("config")
      .where("id", "=", g.projectId)
      .executeTakeFirstOrThrow();
    // Written before the http(s) rule existed (the API refuses such a template now).
    const config = { ...JSON.parse(row.config), link_template: "file:///srv/git/calc#{branch}" };
    await ctx.store.db
      .updateTable("projects")
      .set({ config: JSON.stringify(config) })
      .where("id", "=", g.projectId)
      .execute();
    try {
      const result = await runPlan();
      expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
      expect(result.result.link).toBeNull();
      expect(result.result.pushed).toBe(true);
      const logs = await g.request("GET", `/ops/runs/${result.id}/logs?limit=1000`);
      expect(logs.body.items.map((l: { msg: string }) => l.msg).join("\n")).toMatch(
        /link_template renders file:\/\/\/srv\/git\/calc#task\/.*, not an http\(s\) URL/,
      );
    } finally {
      await ctx.store.db
        .updateTable("projects")
        .set({ config: row.config })
        .where("id", "=", g.projectId)
        .execute();
    }
  });

  it("refuses the agent's own git push; the protected base branch never receives one", async () => {
    let tried = false;
    respond = (req) => {
      const last = req.body.messages?.at(-1);
      if (last?.role !== "tool" && !tried) {
        tried = true;
        return { toolCalls: [{ name: "run_command", args: { command: "git push origin HEAD:main" } }] };
      }
      if (tried && last?.role === "tool" && String(last.content).includes("refused by the command policy")) {
        return { toolCalls: [{ name: "read_file", args: { path: "calc.js" } }] };
      }
      return demoModel(req);
    };
    const mainBefore = await remoteMain();
    const result = await runPlan();
    expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
    const logs = await g.request("GET", `/ops/runs/${result.id}/logs?limit=1000`);
    expect(logs.text).toContain("refused by the command policy");
    expect(await remoteMain()).toBe(mainBefore);
  });
});
