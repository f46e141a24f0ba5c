import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * What a runner may claim about a run in `POST /ops/runs/{id}/complete`: links (the result's
 * `link`, a pull request's `url`) are http(s) only, and the branch is the run's own task branch,
 * `<branch_prefix><task id>` of its project. Anything else is refused (400 `validation_failed`),
 * nothing is stored, and the runner still holds the run — over HTTP, with the runner role.
 */
describe.each(storageKinds())("run results a runner reports on %s", (kind) => {
  let g: TestGimo;
  let runnerId: string;
  beforeAll(async () => {
    g = await startGimo(kind);
    await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { max_concurrent_runs: 20 } });
    const register = await g.request("POST", "/ops/runners/register", {
      role: "runner",
      body: { name: "r" },
    });
    runnerId = register.body.runner_id;
  });
  afterAll(async () => {
    await g?.close();
  });

  /** A run claimed over HTTP by the test's runner. */
  async function claimed() {
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "p", plan: samplePlan() },
    });
    const approve = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      body: { auto_run: true },
    });
    expect(approve.status).toBe(201);
    const claim = await g.request("POST", "/ops/runs/claim", {
      role: "runner",
      body: { runner_id: runnerId },
    });
    expect(claim.status).toBe(200);
    expect(claim.body.run.id).toBe(approve.body.run.id);
    return {
      id: claim.body.run.id as string,
      taskId: claim.body.run.task_id as string,
      attempt: claim.body.run.attempt,
    };
  }

  const complete = (run: { id: string; attempt: number }, body: Record<string, unknown>) =>
    g.request("POST", `/ops/runs/${run.id}/complete`, {
      role: "runner",
      body: { runner_id: runnerId, attempt: run.attempt, ...body },
    });

  it("refuses links that are not http(s), branches that are not the run's own, and keeps holding the run", async () => {
    const run = await claimed();
    const branch = `task/${run.taskId}`;
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ["javascript link", { link: "javascript:alert(1)", branch }, /link/],
      ["data link", { link: "data:text/html,<script>alert(1)</script>" }, /link/],
      ["file link", { link: "file:///etc/passwd" }, /link/],
      ["relative link", { link: "/ops/tokens" }, /link/],
      ["link of another type", { link: 42 }, /link/],
      ["protected branch", { branch: "main" }, /branch/],
      ["another task's branch", { branch: "task/t_01JD0000000000000000000000" }, /branch/],
      ["a branch under the task's", { branch: `${branch}/x` }, /branch/],
      ["branch of another type", { branch: ["main"] }, /branch/],
      [
        "javascript pull request",
        { pull_request: { url: "javascript:alert(1)", number: 1 } },
        /pull_request/,
      ],
      ["pull request without url", { pull_request: { number: 1 } }, /pull_request/],
    ];
    for (const [what, result, field] of bad) {
      for (const status of ["succeeded", "failed"] as const) {
        const res = await complete(run, {
          status,
          result,
          ...(status === "failed" ? { error: { code: "x", message: "x" } } : {}),
        });
        expect({ what, status: res.status, code: res.body.error?.code }).toEqual({
          what,
          status: 400,
          code: "validation_failed",
        });
        expect(res.body.error.message, what).toMatch(field);
      }
    }
    const stored = await g.request("GET", `/ops/runs/${run.id}`, { role: "actions" });
    expect(stored.body.status).toBe("running");
    expect(stored.body.result).toBeNull();
    // The runner still holds it, and an honest result ends it.
    const good = {
      branch,
      link: `https://git.example.com/o/r/tree/${branch}`,
      pull_request: { url: "http://git.example.com/o/r/pull/7", number: 7 },
      pushed: true,
    };
    const ok = await complete(run, { status: "succeeded", result: good });
    expect(ok.status, ok.text).toBe(200);
    const done = await g.request("GET", `/ops/runs/${run.id}`, { role: "actions" });
    expect(done.body.status).toBe("succeeded");
    expect(done.body.result).toMatchObject(good);
  });

  it("the task branch follows the project's branch_prefix, and results without links or branch pass", async () => {
    const patch = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: { branch_prefix: "gimo/" },
    });
    expect(patch.status).toBe(200);
    try {
      const run = await claimed();
      expect(
        (await complete(run, { status: "succeeded", result: { branch: `task/${run.taskId}` } })).status,
      ).toBe(400);
      const ok = await complete(run, {
        status: "succeeded",
        result: { branch: `gimo/${run.taskId}`, link: null, pushed: false, commits: [] },
      });
      expect(ok.status, ok.text).toBe(200);
      const bare = await claimed();
      expect(
        (await complete(bare, { status: "succeeded", result: { pushed: false, commits: [] } })).status,
      ).toBe(200);
    } finally {
      await g.request("PATCH", `/ops/projects/${g.projectId}`, { body: { branch_prefix: "task/" } });
    }
  });

  it("refuses a link_template that cannot render to an http(s) URL, where it is written", async () => {
    for (const template of [
      "javascript:alert('{branch}')",
      "file:///srv/git/repo#{branch}",
      "{branch}",
      "data:,{sha}",
    ]) {
      const res = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
        body: { link_template: template },
      });
      expect({ template, status: res.status, code: res.body.error?.code }).toEqual({
        template,
        status: 400,
        code: "validation_failed",
      });
    }
    const created = await g.request("POST", "/ops/projects", {
      body: { name: "bad-link", repo_url: "https://example.com/x.git", link_template: "javascript:void(0)" },
    });
    expect(created.status).toBe(400);
    const ok = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: { link_template: "https://git.example.com/o/r/tree/{branch}" },
    });
    expect(ok.status, ok.text).toBe(200);
  });
});
