import type { GimoClient } from "../../src/client/client.ts";
import { systemPrincipal } from "../../src/core/roles.ts";
import { terminalRunStatuses } from "../../src/core/run-machine.ts";
import type { TestGimo } from "./harness.ts";
import { samplePlan } from "./harness.ts";

/** Queues `n` runs of hand-written, approved plans, straight through the services (fast). */
export async function queueRuns(
  g: TestGimo,
  n: number,
  opts: { dependsOn?: string[]; priority?: number; project?: string; plan?: unknown } = {},
) {
  const { drafts, runs } = g.gimo.services;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const draft = await drafts.create(systemPrincipal, {
      prompt: `task ${i}`,
      project: opts.project,
      plan: (opts.plan ?? samplePlan(`Task ${i}`)) as never,
    });
    const { approved } = await drafts.approve(systemPrincipal, draft.id, { auto_run: false });
    const run = await runs.create(systemPrincipal, {
      approved_id: approved.id,
      depends_on: opts.dependsOn,
      priority: opts.priority,
    });
    ids.push(run.id);
  }
  return ids;
}

/** Polls until `check` holds or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A plan of command and test steps only: it needs no model. */
export function commandPlan(title = "Regenerate and test", command = "true") {
  return {
    title,
    summary: "No agent step.",
    steps: [
      { id: "s1", kind: "command" as const, title: "Regenerate", command },
      { id: "s2", kind: "test" as const, title: "Unit tests" },
    ],
    acceptance: [],
    risk: "low" as const,
  };
}

/** Approves a hand-written plan with a run (straight through the services) and returns the run's id. */
export async function queueApprovedRun(
  g: TestGimo,
  plan: unknown,
  opts: { prompt?: string; project?: string } = {},
) {
  const { drafts } = g.gimo.services;
  const draft = await drafts.create(systemPrincipal, {
    prompt: opts.prompt ?? "fix add",
    plan: plan as never,
    project: opts.project,
  });
  const { run } = await drafts.approve(systemPrincipal, draft.id, { auto_run: true });
  return run?.id as string;
}

/** Polls a run over HTTP until it has ended (succeeded, failed or cancelled); answers its view. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the run's JSON as it comes
export async function runEnded(g: TestGimo, runId: string, timeoutMs = 90_000): Promise<any> {
  return eventually(
    async () => {
      const r = await g.request("GET", `/ops/runs/${runId}`);
      return terminalRunStatuses.includes(r.body.status) ? r.body : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Every run, all pages, through `client`. */
export async function allRuns(client: GimoClient) {
  const all: Awaited<ReturnType<GimoClient["listRuns"]>>["items"] = [];
  let cursor: string | null = null;
  do {
    const page = await client.listRuns({ limit: 200, cursor: cursor ?? undefined });
    all.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return all;
}
