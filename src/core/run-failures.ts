/**
 * Why a run failed, said once: every code a run's `error.code` can carry, whether a later attempt
 * may succeed, and what it means to the person reading it. The executor and the runner build their
 * failures from this table (`runFailure`), the queue writes `cancelled` and `lease_expired` from it,
 * and the chat reads its advice from it. test/run-failures.test.ts holds the codes the PL/pgSQL
 * functions write to it.
 *
 * `retryable` is the infrastructure failing, not the work: the runner marks such a failure
 * `retryable`, and the queue (store/queue-*.ts) puts the run back in `queued` while attempts are
 * left. A remote runner reports the flag itself; the table is what GIMO's own runner sends.
 *
 * `advice` is what the chat tells the person to do next (`{run}` stands for the run's id); codes
 * without one get the general advice (`defaultRunAdvice`).
 */
export interface RunFailureKind {
  retryable: boolean;
  message: string;
  advice?: string;
}

const drift = "the approved plan changed after approval; propose it again and confirm.";
const budget =
  "the run hit its budget; ask me to split the plan into smaller steps, or raise the project's budgets.";
const review =
  "the review did not find the acceptance criteria met; read its evidence (ask me for the logs of {run}), then tell me whether to revise the plan's steps or its criteria.";
const policy = "a policy refused a command or a push; ask me to revise the plan without it.";

export const runFailures = {
  // The work itself failed: another attempt would fail the same way.
  setup_failed: { retryable: false, message: "the plan's setup commands failed" },
  command_failed: { retryable: false, message: "a command of the plan failed" },
  tests_failed: { retryable: false, message: "the tests still fail after the fix loop" },
  acceptance_not_met: { retryable: false, message: "the acceptance criteria are not met", advice: review },
  verdict_invalid: { retryable: false, message: "the review's verdict was not readable", advice: review },
  agent_cli_failed: { retryable: false, message: "the agent CLI failed" },
  workspace_too_large: { retryable: false, message: "the workspace outgrew its size limit" },
  no_changes: { retryable: false, message: "the run finished without changing any file" },
  approval_drift: { retryable: false, message: "the approved plan changed after approval", advice: drift },
  budget_exceeded: { retryable: false, message: "the run exceeded a budget", advice: budget },
  stuck: { retryable: false, message: "the agent repeated itself without progress", advice: budget },
  policy_refused: { retryable: false, message: "a policy refused a command or a push", advice: policy },
  commit_too_large: { retryable: false, message: "the commit is larger than allowed" },
  executor_error: { retryable: false, message: "the executor failed" },
  handler_error: { retryable: false, message: "the runner's handler failed" },
  aborted: { retryable: false, message: "the run was aborted" },
  cancelled: { retryable: false, message: "cancelled on request" },
  // The forge (GitHub, GitLab, Gitea) answered, or did not.
  forge_auth: { retryable: false, message: "the forge refused the token" },
  forge_not_found: { retryable: false, message: "the forge does not know the repository" },
  forge_rejected: { retryable: false, message: "the forge rejected the request" },
  forge_bad_response: { retryable: false, message: "the forge's answer was not the JSON expected" },
  forge_config: { retryable: false, message: "no forge token or repository is configured" },
  forge_refused: { retryable: false, message: "GIMO refused the forge call (it never merges)" },
  forge_rate_limited: { retryable: true, message: "the forge is rate limited" },
  forge_unavailable: { retryable: true, message: "the forge is unavailable" },
  forge_timeout: { retryable: true, message: "the forge did not answer in time" },
  // The infrastructure failed: the queue runs the attempt again while attempts are left.
  provider_rate_limited: { retryable: true, message: "the model provider is rate limited" },
  provider_unavailable: { retryable: true, message: "the model provider is unavailable" },
  runner_stopping: { retryable: true, message: "the runner was stopped mid-run; handing it back" },
  lease_expired: { retryable: true, message: "the runner stopped renewing its lease" },
} as const satisfies Record<string, RunFailureKind>;

export type RunFailureCode = keyof typeof runFailures;

export const runFailureCodes = Object.keys(runFailures) as RunFailureCode[];

export function isRunFailureCode(code: string): code is RunFailureCode {
  return Object.hasOwn(runFailures, code);
}

/** A run's error as the protocol carries it; `retryable: true` only for the table's retryable codes. */
export interface RunFailure<C extends string = RunFailureCode> {
  code: C;
  message: string;
  retryable?: boolean;
}

/** A run's stored error: the code, with the table's message unless a more precise one is given. */
export function runError<C extends RunFailureCode>(code: C, message?: string): { code: C; message: string } {
  return { code, message: message ?? runFailures[code].message };
}

/** The failure a runner reports: `runError`, marked `retryable` when the table says so. */
export function runFailure<C extends RunFailureCode>(
  code: C,
  message?: string,
): RunFailure<C> & { message: string } {
  return { ...runError(code, message), ...(runFailures[code].retryable ? { retryable: true } : {}) };
}

export const defaultRunAdvice =
  "read the log (ask me for the logs of {run}), then tell me what to change and I will revise the plan, or requeue the run (POST /ops/runs/{run}/requeue).";

/** What the person can do about a run that failed with `code`. */
export function runAdvice(code: string, runId: string): string {
  const kind: RunFailureKind | undefined = isRunFailureCode(code) ? runFailures[code] : undefined;
  return (kind?.advice ?? defaultRunAdvice).replaceAll("{run}", runId);
}
