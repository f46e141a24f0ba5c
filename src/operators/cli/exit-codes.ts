/**
 * What `gimo` exits with. Scripts can tell a refused token from a missing run from a failed run
 * without reading the text; `docs/cli.md` prints this table from here.
 */
export const exitCodes = {
  ok: { code: 0, meaning: "done; for watch, logs --follow, run-task: the run succeeded" },
  error: { code: 1, meaning: "an error not listed below" },
  usage: {
    code: 2,
    meaning: "bad usage: unknown command or option, missing argument, a prompt without a terminal",
  },
  auth: { code: 3, meaning: "not logged in, token refused (401) or role not allowed (403)" },
  notFound: { code: 4, meaning: "no such project, task, draft, approved plan or run (404)" },
  conflict: {
    code: 5,
    meaning: "refused in this state: already approved, illegal transition (409), panic mode (423)",
  },
  invalid: { code: 6, meaning: "the server refused the input (400, 413, 422)" },
  unreachable: { code: 7, meaning: "the server is unreachable, timed out or failed (5xx)" },
  runFailed: { code: 10, meaning: "the run failed" },
  runCancelled: { code: 11, meaning: "the run was cancelled" },
  planFailed: { code: 12, meaning: "the planner could not write a plan (the draft is in error)" },
  checksFailed: { code: 13, meaning: "doctor: at least one check failed" },
  incompatible: {
    code: 14,
    meaning: "the database or backup was written by a newer GIMO (migrations are forward-only)",
  },
} as const;

export type ExitName = keyof typeof exitCodes;

/** An error the CLI reports in one line and exits with its code (no stack trace). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(kind: ExitName, message: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCodes[kind].code;
  }
}

/** The exit code for an HTTP status the server answered with. */
export function exitForStatus(status: number): number {
  if (status === 401 || status === 403) return exitCodes.auth.code;
  if (status === 404) return exitCodes.notFound.code;
  if (status === 409 || status === 423) return exitCodes.conflict.code;
  if (status === 400 || status === 413 || status === 415 || status === 422) return exitCodes.invalid.code;
  if (status === 0 || status >= 500) return exitCodes.unreachable.code;
  return exitCodes.error.code;
}
