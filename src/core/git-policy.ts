import { GimoError } from "./errors.ts";

/**
 * Git policy: the pure rules GIMO's git work obeys (SPEC §4, steps 1 and 4; refusals).
 *
 *  - A run works on `<branch_prefix><task id>` (`task/t_…`). GIMO pushes only such a branch: never a
 *    protected branch (`protected_branches`, compared case-insensitively, because `Main` and `main`
 *    are one branch on case-insensitive hosts), never the project's base branch, never a name outside
 *    the prefix, never something that is not a plain branch name (a refspec `a:b`, `refs/…`, `-x`,
 *    `..`, `@{`, the characters git forbids). `assertPushable` is called BEFORE any git command of a
 *    push, so a refused push never reaches git at all. Merging is not a policy question: no code path
 *    of GIMO merges.
 *  - Links come from the project's `link_template` with `{branch}`, `{task_id}`, `{run_id}`, `{sha}`,
 *    `{base_branch}`; values are URL-encoded segment by segment, so `task/t_1` stays `task/t_1` in a
 *    path (what GitHub's and GitLab's tree URLs expect) while `#`, `?`, `&`, spaces are escaped.
 *    Unknown placeholders are left as written.
 */

export interface BranchRules {
  base_branch: string;
  protected_branches: readonly string[];
  branch_prefix: string;
}

/** Refuses (GimoError `forbidden`) a push of `branch` that the policy does not allow. */
export function assertPushable(branch: string, project: BranchRules): void {
  const invalid = refNameProblem(branch);
  if (invalid) throw new GimoError("forbidden", `refusing to push ${JSON.stringify(branch)}: ${invalid}`);
  const lower = branch.toLowerCase();
  if (project.protected_branches.some((p) => p.toLowerCase() === lower)) {
    throw new GimoError("forbidden", `refusing to push to protected branch ${branch}`);
  }
  if (branch.toLowerCase() === project.base_branch.toLowerCase()) {
    throw new GimoError("forbidden", `refusing to push to the base branch ${branch}`);
  }
  if (!branch.startsWith(project.branch_prefix) || branch.length === project.branch_prefix.length) {
    throw new GimoError(
      "forbidden",
      `refusing to push ${branch}: GIMO pushes only task branches under ${JSON.stringify(project.branch_prefix)}`,
    );
  }
}

/** The task branch of a task: `<prefix><task id>`, checked to be a valid branch name. */
export function taskBranch(prefix: string, taskId: string): string {
  const branch = `${prefix}${taskId}`;
  const invalid = refNameProblem(branch);
  if (invalid) throw new GimoError("validation_failed", `task branch ${JSON.stringify(branch)} ${invalid}`);
  return branch;
}

/** Why `name` is not a plain branch name (git check-ref-format rules, plus no `refs/`, `-x`, `HEAD`); undefined when it is. */
export function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > 250) return "is too long";
  if (name.startsWith("-")) return "starts with '-'";
  if (name === "HEAD" || name === "@") return "is not a branch name";
  if (name.startsWith("refs/")) return "must be a short branch name, not a ref";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in ref names
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name)) return "contains a character git forbids in branch names";
  if (name.includes("..") || name.includes("@{") || name.includes("//")) return "contains '..', '@{' or '//'";
  if (name.startsWith("/") || name.endsWith("/") || name.endsWith("."))
    return "starts or ends with '/' or '.'";
  for (const part of name.split("/")) {
    if (part.startsWith(".") || part.endsWith(".lock"))
      return "has a component starting with '.' or ending in '.lock'";
  }
  return undefined;
}

export interface LinkVars {
  branch: string;
  task_id: string;
  run_id: string;
  sha: string;
  base_branch: string;
}

/** Fills a project's `link_template`; every value URL-encoded per path segment. */
export function renderLink(template: string, vars: LinkVars): string {
  return template.replace(/\{(branch|task_id|run_id|sha|base_branch)\}/g, (_, key: keyof LinkVars) =>
    vars[key].split("/").map(encodeURIComponent).join("/"),
  );
}
