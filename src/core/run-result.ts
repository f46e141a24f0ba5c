/**
 * What a runner may claim about a run it ends (`POST /ops/runs/{id}/complete`). The result is shown
 * to people — the web UI renders `link` and a pull request's `url` as links, operators read
 * `branch` as where the work is — so a runner cannot make GIMO show a `javascript:` link or claim
 * that a run's work is on `main`:
 *   - `link` is null or an absolute http(s) URL;
 *   - `pull_request`, when present, is an object whose `url` is an absolute http(s) URL;
 *   - `branch`, when present, is the run's own task branch: `<branch_prefix><task id>` of its project.
 * Anything else is refused whole (400 `validation_failed`, naming the field); nothing is stored.
 */
export interface ResultProblem {
  field: string;
  message: string;
}

export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host !== "";
  } catch {
    return false;
  }
}

/** The first problem of `result`; `taskBranch` is the run's own branch (needed when it names one). */
export function runResultProblem(
  result: Record<string, unknown>,
  taskBranch: string | undefined,
): ResultProblem | undefined {
  if (Object.hasOwn(result, "link") && result.link !== null && !isHttpUrl(result.link)) {
    return { field: "result.link", message: "result.link must be null or an http(s) URL" };
  }
  if (Object.hasOwn(result, "pull_request")) {
    const pr = result.pull_request as { url?: unknown } | null;
    if (typeof pr !== "object" || pr === null || !isHttpUrl(pr.url)) {
      return { field: "result.pull_request", message: "result.pull_request.url must be an http(s) URL" };
    }
  }
  if (Object.hasOwn(result, "branch") && result.branch !== taskBranch) {
    return {
      field: "result.branch",
      message: `result.branch must be the run's own task branch${taskBranch ? ` ${taskBranch}` : ""}`,
    };
  }
  return undefined;
}
