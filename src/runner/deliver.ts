import type { PlanContent } from "../contract/plan.ts";
import type { ClaimedRun } from "../contract/runner.ts";
import { conventionalMessage } from "../core/commit-message.ts";
import { renderLink } from "../core/git-policy.ts";
import { runFailure } from "../core/run-failures.ts";
import { tracer } from "../core/tracing.ts";
import type { Usage } from "../llm/port.ts";
import type { ExecutorDeps } from "./executor-port.ts";
import { openDraftPullRequest } from "./forge/pull-request.ts";
import type { RunContext } from "./handler.ts";
import { RunFailed } from "./run-failed.ts";
import type { WorkOutcome } from "./work.ts";
import { commitAll, fileChanges, type PreparedWorkspace, pushBranch } from "./workspace/workspace.ts";

/**
 * The end of a green run (nothing here goes on once the run's signal aborted, until the push: a
 * branch that reached the remote is reported, not abandoned): commit everything with a conventional message from the plan and the
 * `Gimo-Run` / `Gimo-Approved` trailers (within the run's `max_commit_mb`), push the task branch
 * (the workspace refuses a protected one before any git call; `pushed` is what the remote answers
 * afterwards), render the link, open a draft pull request when the project asks for one — never a
 * merge — and assemble the run's result, with how the work was verified (work.ts).
 */
export async function deliver(
  deps: ExecutorDeps,
  job: ClaimedRun,
  ctx: RunContext,
  ws: PreparedWorkspace,
  plan: PlanContent,
  checked: WorkOutcome,
  usage: Usage,
  maxCommitBytes: number,
) {
  const message = conventionalMessage(plan, {
    run: job.run.id,
    approved: job.approved.id,
    hash: job.approved.content_hash,
  });
  const token = await deps.forgeToken(job);
  const executorKey = (await deps.executorConfig(job))?.api_key;
  const secrets = [token, executorKey].filter((s): s is string => typeof s === "string");
  const { tests } = checked;
  const committed = await tracer().inSpan("gimo.commit", {}, () =>
    commitAll(ws, message, {
      maxCommitBytes,
      secrets,
      signal: ctx.signal,
      ...(deps.gitIdentity ? { identity: deps.gitIdentity } : {}),
    }),
  );
  if (committed.commits.length === 0) {
    throw new RunFailed(runFailure("no_changes"), { tests });
  }
  const changes = await fileChanges(ws);
  ctx.log(
    "info",
    `committed ${committed.headSha.slice(0, 12)} (${changes.length} file${changes.length === 1 ? "" : "s"})`,
  );
  const project = job.project;
  ctx.signal.throwIfAborted();
  const pushed = project.push
    ? await tracer().inSpan(
        "gimo.push",
        {},
        async () =>
          (await pushBranch(ws, project, committed.headSha, token ? { token } : {}, { signal: ctx.signal }))
            .pushed,
      )
    : false;
  const vars = {
    branch: ws.branch,
    task_id: job.run.task_id,
    run_id: job.run.id,
    sha: committed.headSha,
    base_branch: ws.baseBranch,
  };
  const rendered = project.link_template ? renderLink(project.link_template, vars) : null;
  // The server accepts only http(s) links; a template from before that rule is skipped, not fatal.
  const link = rendered && /^https?:\/\//i.test(rendered) ? rendered : null;
  if (rendered && !link) ctx.log("warn", `link_template renders ${rendered}, not an http(s) URL: no link`);
  if (pushed) ctx.log("info", `pushed ${ws.branch}${link ? `: ${link}` : ""}`);
  let pullRequest: { url: string; number: number } | null = null;
  if (pushed && project.pull_request === "draft" && project.forge) {
    pullRequest = await openDraftPullRequest({
      kind: project.forge.kind as "github",
      api_url: project.forge.api_url ?? undefined,
      token: token ?? "",
      remoteUrl: ws.remoteUrl,
      head: ws.branch,
      base: ws.baseBranch,
      title: plan.title,
      body: `${plan.summary}\n\nGimo-Run: ${job.run.id}`,
    });
    ctx.log("info", `opened draft pull request ${pullRequest.url}`);
  }
  return {
    branch: ws.branch,
    base_branch: ws.baseBranch,
    base_sha: ws.baseSha,
    head_sha: committed.headSha,
    commits: committed.commits,
    pushed,
    link: link ?? pullRequest?.url ?? null,
    file_changes: changes,
    tests,
    usage,
    verified: checked.verified,
    verification: checked.verification,
    ...(pullRequest ? { pull_request: pullRequest } : {}),
  };
}
