import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PLAN } from "../../src/demo/model-script.ts";
import type { ScriptedApi } from "../../src/llm/scripted-server.ts";
import type { AgentCliKind } from "../../src/runner/agent-cli/adapter.ts";
import { type CliSuite, cliBinary, FINAL_ANSWER, fixScript, startCliSuite } from "./agent-cli.ts";

/**
 * One real agent CLI as GIMO's executor, end to end (see agent-cli.ts): the sample repository's
 * failing test fixed through the CLI's own tools inside the sandbox, the run succeeded, the remote
 * task branch holding GIMO's commit with its trailers, the CLI's output streamed as run log lines,
 * its token usage in the result; the wall budget stopping it mid-run, and the tokens it reports
 * counted against the run's token budget.
 *
 * A CLI that is not installed is never skipped silently: outside CI the suite is skipped with a
 * warning, with CI=true it fails.
 */
export interface CliExpectations {
  /** The dialect the CLI speaks to the scripted server. */
  api: ScriptedApi;
  /** Log lines the CLI's own output becomes (after the adapter's parser). */
  logLines: RegExp[];
  /** More tests of this CLI against the same GIMO. */
  more?: (suite: () => CliSuite) => void;
}

export function defineAgentCliSuite(kind: AgentCliKind, expect_: CliExpectations): void {
  const binary = cliBinary(kind);
  if (!binary) {
    const why = `the ${kind} CLI is not installed (node_modules/.bin): run npm run agent-clis`;
    if (process.env.CI === "true") {
      it(`${kind} is installed`, () => {
        throw new Error(why);
      });
    } else {
      console.warn(`skipping the ${kind} suite: ${why}`);
      describe.skip(`${kind} as the executor`, () => {});
    }
    return;
  }

  describe(`${kind} as the executor`, () => {
    let s: CliSuite;
    beforeAll(async () => {
      s = await startCliSuite(kind, binary);
    }, 120_000);
    afterAll(async () => {
      await s?.close();
    });

    it(`fixes the failing test through ${kind}'s own tools in the sandbox; GIMO commits and pushes`, async () => {
      s.respond = fixScript(kind);
      const before = s.model.requests.length;
      const result = await s.runPlan();
      const logs = await s.logs(result.id);
      const text = logs.map((l) => l.msg).join("\n");
      expect(result.status, `${JSON.stringify(result.error)}\n${text.slice(-4_000)}`).toBe("succeeded");

      // The CLI spoke its own dialect, ran the failing test in the sandbox and saw it fail.
      const seen = s.model.requests.slice(before);
      expect(seen.some((r) => r.api === expect_.api)).toBe(true);
      expect(seen.some((r) => r.turn.toolOutputs.some((o) => o.includes("add(2, 3) should be 5")))).toBe(
        true,
      );
      const workspace = seen
        .flatMap((r) => r.turn.toolOutputs)
        .map((o) => /WORKSPACE=(\/[^\s"\\]+)/.exec(o)?.[1])
        .find(Boolean);
      expect(workspace).toMatch(/^\//);

      // GIMO did the git work.
      const r = result.result;
      expect(r.branch).toBe(`task/${result.task_id}`);
      expect(r.pushed).toBe(true);
      expect(r.file_changes).toEqual([{ path: "calc.js", status: "modified", insertions: 1, deletions: 1 }]);
      expect(r.tests).toMatchObject({ command: "node calc.test.js", exit_code: 0, passed: 1, failed: 0 });
      const message = await s.remoteLog(r.branch);
      expect(message).toContain(`Gimo-Run: ${result.id}`);
      expect(message).toMatch(new RegExp(`Gimo-Approved: ${result.approved_id} sha256:[0-9a-f]{64}`));

      // Its output streamed as the run's log lines, in the sandbox, reaching only the model API.
      expect(text).toContain(`running ${kind} as the executor`);
      expect(text).toMatch(new RegExp(`running ${kind}: \\S+ \\(network: 127\\.0\\.0\\.1:${s.model.port}`));
      expect(text).toMatch(/sandbox: bubblewrap: (uid \d+|GIMO's uid \d+) in a user namespace/);
      for (const line of expect_.logLines) expect(text).toMatch(line);
      expect(text).toContain(FINAL_ANSWER);
      expect(logs.find((l) => l.msg.startsWith(`running ${kind}:`))).toBeDefined();

      // Its token usage, as the CLI reported it.
      expect(r.usage.input_tokens).toBeGreaterThan(0);
      expect(r.usage.output_tokens).toBeGreaterThan(0);
    }, 330_000);

    it(`stops ${kind} at the run's wall budget`, async () => {
      s.respond = (req) => ({ ...fixScript(kind)(req), delayMs: 120_000 });
      const started = Date.now();
      const result = await s.runPlan({ ...DEMO_PLAN, budgets: { max_wall_seconds: 12 } });
      expect(result.status).toBe("failed");
      expect(result.error.code).toBe("budget_exceeded");
      expect(Date.now() - started).toBeLessThan(60_000);
      const text = (await s.logs(result.id)).map((l) => l.msg).join("\n");
      expect(text).toContain(`running ${kind} as the executor`);
    }, 120_000);

    it(`ends with budget_exceeded when the tokens ${kind} reports pass max_tokens`, async () => {
      s.respond = fixScript(kind);
      const result = await s.runPlan({ ...DEMO_PLAN, budgets: { max_tokens: 1_000 } });
      expect(result.status).toBe("failed");
      expect(result.error.code).toBe("budget_exceeded");
      expect(result.error.message).toMatch(/more than its budget of 1000/);
    }, 330_000);

    expect_.more?.(() => s);
  });
}
