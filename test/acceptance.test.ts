import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PLAN, demoModel, reviewedCriteria, verdicts } from "../src/demo/model-script.ts";
import { embeddedExecutorDeps } from "../src/embedded/executor-deps.ts";
import type { ScriptedReply } from "../src/llm/scripted-replies.ts";
import type { ReceivedRequest, ScriptedModel } from "../src/llm/scripted-server.ts";
import { startScriptedModel } from "../src/llm/scripted-server.ts";
import { createExecutor } from "../src/runner/executor.ts";
import { pushCalcRepo } from "./support/calc-repo.ts";
import { gimo } from "./support/cli.ts";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { commandPlan, queueApprovedRun, runEnded } from "./support/runs.ts";

/**
 * Acceptance that is checked, end to end: real git, real bubblewrap, the real openai_compat adapter
 * talking to a scripted model, the embedded runner. After the tests, the model judges each of the
 * plan's acceptance criteria against the diff and the test output; an unmet criterion goes back
 * into the fix loop; the verdicts are in the run's result. A project without a test command
 * succeeds only unverified (API and CLI say so). And plans without agent steps run with no model
 * configured at all, on both databases.
 */
const run = promisify(execFile);

type Run = {
  id: string;
  status: string;
  task_id: string;
  error: { code: string; message: string; details?: unknown } | null;
  result: Record<string, unknown> & {
    verified?: boolean;
    verification?: {
      tests: string;
      acceptance: { criterion: string; met: boolean; evidence: string }[];
      judged_by: string | null;
      prompt_hash: string | null;
      reviews: number;
      reasons: string[];
    };
  };
};

const waitForEnd = (g: TestGimo, id: string): Promise<Run> => runEnded(g, id);
const queue = (g: TestGimo, plan: unknown, project?: string) =>
  queueApprovedRun(g, plan, { prompt: "check it", project });

const logText = async (g: TestGimo, id: string) =>
  (await g.request("GET", `/ops/runs/${id}/logs?limit=1000`)).body.items
    .map((l: { msg: string }) => l.msg)
    .join("\n") as string;

/** The text of every message of a request, for asserting what the model was shown. */
const shown = (req: ReceivedRequest) => JSON.stringify(req.body.messages ?? []);

describe("acceptance criteria judged by the executor model", () => {
  let g: TestGimo;
  let model: ScriptedModel;
  let respond: (req: ReceivedRequest) => ScriptedReply = demoModel;

  beforeAll(async () => {
    model = await startScriptedModel({ respond: (req) => respond(req) });
    g = await startGimo(
      "sqlite",
      { sandbox: "on", leaseSeconds: 10 },
      { runHandler: (services) => createExecutor(embeddedExecutorDeps(services, () => {})) },
    );
    await pushCalcRepo(g);
    const provider = { type: "openai_compat", base_url: model.url, model: "scripted" };
    await g.request("PUT", "/ops/provider", { body: { planner: provider, executor: provider } });
    await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: { test_command: "node calc.test.js", budgets: { max_fix_iterations: 2 } },
    });
  });
  afterAll(async () => {
    await g?.close();
    await model?.close();
  });

  /** The demo model for the work; `review(n)` answers the n-th acceptance review (1-based). */
  function scripted(review: (n: number, criteria: string[]) => ScriptedReply) {
    const reviews: ReceivedRequest[] = [];
    const work: ReceivedRequest[] = [];
    respond = (req) => {
      const criteria = reviewedCriteria(req);
      if (!criteria) {
        work.push(req);
        return demoModel(req);
      }
      reviews.push(req);
      return review(reviews.length, criteria);
    };
    return { reviews, work };
  }

  const remoteBranches = async () =>
    (await run("git", ["-C", g.repo.remotePath, "branch", "--format=%(refname:short)"])).stdout;

  it("a criterion never met goes back to the fix loop, and fails the run with the verdicts when the budget is spent", async () => {
    const seen = scripted((_n, criteria) =>
      verdicts(
        criteria.map((c) => !c.startsWith("multiply")),
        (ok) => (ok ? "calc.test.js prints 1 passed" : "calc.js defines no multiply() at all"),
      ),
    );
    const result = await waitForEnd(g, await queue(g, DEMO_PLAN));
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("acceptance_not_met");
    expect(result.error?.message).toMatch(/1 of 2 acceptance criteria not met after 2 fix iterations/);
    expect(result.error?.details).toMatchObject({ unmet: ["multiply() unchanged"] });
    // The first review, then one after each of the two fix iterations.
    expect(seen.reviews).toHaveLength(3);
    expect(result.result.verified).toBe(false);
    expect(result.result.verification).toMatchObject({
      tests: "passed",
      reviews: 3,
      acceptance: [
        { criterion: "node calc.test.js passes", met: true, evidence: "calc.test.js prints 1 passed" },
        { criterion: "multiply() unchanged", met: false, evidence: "calc.js defines no multiply() at all" },
      ],
    });
    expect(result.result.verification?.reasons).toContain("1 acceptance criterion is not met");
    expect((result.result.tests as { exit_code: number }).exit_code).toBe(0);
    // The evidence went back to the executor as its fix instruction, like a failing test would.
    expect(
      seen.work.some((req) => shown(req).includes("Reviewer's evidence: calc.js defines no multiply()")),
    ).toBe(true);
    // Nothing unaccepted is pushed.
    expect(await remoteBranches()).not.toContain(`task/${result.task_id}`);
    const log = await logText(g, result.id);
    expect(log).toContain("acceptance NOT met: multiply() unchanged — calc.js defines no multiply() at all");
    expect(log).toMatch(/1 of 2 acceptance criteria not met; fix iteration 1 of 2/);
  });

  it("a criterion met after a fix: the run succeeds, verified, with every verdict recorded", async () => {
    const seen = scripted((n, criteria) =>
      verdicts(
        criteria.map((c, i) => n > 1 || i === 0 || !c.startsWith("multiply")),
        (ok) => (ok ? "the diff changes only add()" : "not shown yet"),
      ),
    );
    const result = await waitForEnd(g, await queue(g, DEMO_PLAN));
    expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
    expect(result.result.verified).toBe(true);
    expect(result.result.verification).toMatchObject({
      tests: "passed",
      reviews: 2,
      reasons: [],
      judged_by: expect.stringContaining("scripted"),
      prompt_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(result.result.verification?.acceptance.map((v) => v.met)).toEqual([true, true]);
    // The reviewer saw the uncommitted change and the test output.
    const first = shown(seen.reviews[0] as ReceivedRequest);
    expect(first).toContain("+  return a + b;");
    expect(first).toContain("1 passed, 0 failed");
    expect(first).toContain("1. node calc.test.js passes");
    expect(await remoteBranches()).toContain(`task/${result.task_id}`);
    expect(await logText(g, result.id)).toContain(
      "verified: the tests pass and every acceptance criterion is met",
    );
  });

  it("an answer that does not fit is shown back once; a second one fails the run verdict_invalid, clearly", async () => {
    let seen = scripted((n) =>
      n === 1
        ? { json: { verdicts: [{ criterion: 1, met: true, evidence: "passes" }] } }
        : verdicts([true, true]),
    );
    const recovered = await waitForEnd(g, await queue(g, DEMO_PLAN));
    expect(recovered.status, JSON.stringify(recovered.error)).toBe("succeeded");
    expect(shown(seen.reviews[1] as ReceivedRequest)).toContain("criterion 2 has no verdict");

    seen = scripted(() => ({ text: "Looks good to me, ship it!" }));
    const result = await waitForEnd(g, await queue(g, DEMO_PLAN));
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("verdict_invalid");
    expect(result.error?.message).toMatch(/the model's acceptance verdict could not be read \(2 answers\)/);
    expect(seen.reviews).toHaveLength(2);

    // A verdict for a criterion that does not exist, or two for one, is no verdict either.
    seen = scripted(() => ({
      json: {
        verdicts: [
          { criterion: 1, met: true, evidence: "a" },
          { criterion: 1, met: false, evidence: "b" },
          { criterion: 3, met: true, evidence: "c" },
        ],
      },
    }));
    const twice = await waitForEnd(g, await queue(g, DEMO_PLAN));
    expect(twice.error?.code).toBe("verdict_invalid");
    expect(twice.error?.message).toMatch(/there is no criterion 3/);
  });

  it("a project without test_command succeeds only unverified: in the API and in the CLI", async () => {
    scripted(() => verdicts([true, true]));
    const project = await g.request("POST", "/ops/projects", {
      body: { name: "untested", repo_path: g.repo.path, budgets: { max_fix_iterations: 1 } },
    });
    expect(project.status, project.text).toBe(201);
    const result = await waitForEnd(g, await queue(g, DEMO_PLAN, project.body.id));
    expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
    expect(result.result.verified).toBe(false);
    expect(result.result.tests).toBeNull();
    expect(result.result.verification).toMatchObject({
      tests: "none",
      reasons: ["the project has no test_command: nothing was tested"],
    });
    // The criteria were still judged, and the reviewer was told nothing was tested.
    expect(result.result.verification?.acceptance).toHaveLength(2);
    const listed = await g.request("GET", `/ops/runs?project=${project.body.id}`, { role: "actions" });
    expect(listed.body.items[0].result.verified).toBe(false);

    const env = { ...process.env, GIMO_URL: g.url, GIMO_TOKEN: g.tokens.admin, NO_COLOR: "1" };
    const runs = await gimo(["runs", "--project", project.body.id], { env });
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(new RegExp(`${result.id}\\W+succeeded \\(unverified\\)`));
    const watch = await gimo(["watch", result.id], { env });
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toContain(`Run ${result.id} — succeeded (unverified)`);
    expect(watch.stdout).toContain("verified NO — the project has no test_command: nothing was tested");
    expect(watch.stdout).toMatch(/✓ node calc\.test\.js passes — /);
    const logs = await gimo(["logs", result.id], { env });
    expect(logs.stdout).toContain("not verified: the project has no test_command: nothing was tested");
  });
});

describe.each(storageKinds())("plans without agent steps, with no model configured, on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(
      kind,
      { sandbox: "on", leaseSeconds: 10 },
      { runHandler: (services) => createExecutor(embeddedExecutorDeps(services, () => {})) },
    );
    await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: { test_command: "test -f generated.txt", max_concurrent_runs: 4 },
    });
  });
  afterAll(async () => {
    await g?.close();
  });

  it("runs a command-and-test plan, unverified and saying why; an agent plan waits for a model", async () => {
    expect((await g.request("GET", "/ops/provider")).body.executor ?? null).toBeNull();
    // Queued first (older, higher priority): passed over, never waited on.
    const agentRun = await queue(g, { ...commandPlan("Needs a model"), steps: DEMO_PLAN.steps });
    const plan = {
      ...commandPlan("Generate", "echo ok > generated.txt"),
      acceptance: ["generated.txt exists"],
    };
    const result = await waitForEnd(g, await queue(g, plan));
    expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
    expect(result.result.verified).toBe(false);
    expect(result.result.verification).toMatchObject({
      tests: "passed",
      acceptance: [],
      judged_by: null,
      reasons: ["the acceptance criteria were not judged: no executor model is configured"],
    });
    expect(result.result.file_changes).toEqual([
      { path: "generated.txt", status: "added", insertions: 1, deletions: 0 },
    ]);
    expect(await logText(g, result.id)).toContain(
      "the acceptance criteria are not judged: no executor model is configured; the run cannot be verified",
    );
    const waiting = await g.request("GET", `/ops/runs/${agentRun}`);
    expect(waiting.body.status).toBe("queued");
    expect(waiting.body.attempt).toBe(0);
    const runners = await g.request("GET", "/ops/runners", { role: "actions" });
    expect(runners.body.items.map((r: { uses_executor: boolean }) => r.uses_executor)).toEqual([true]);
    await g.request("POST", `/ops/runs/${agentRun}/cancel`, { role: "operator", body: {} });
  });

  it("skips the reasoner's advice on a failing command, and cannot fix failing tests, each saying so", async () => {
    const refused = await waitForEnd(g, await queue(g, commandPlan("Fails", "exit 3")));
    expect(refused.status).toBe("failed");
    expect(refused.error?.code).toBe("command_failed");
    expect(await logText(g, refused.id)).toContain(
      "the reasoner's retry advice is skipped: no executor model is configured",
    );
    const red = await waitForEnd(g, await queue(g, commandPlan("Generates nothing", "true")));
    expect(red.status).toBe("failed");
    expect(red.error?.code).toBe("tests_failed");
    expect(red.error?.message).toBe("the tests fail and no executor model is configured to fix them");
    expect(red.result.verified).toBe(false);
  });
});
