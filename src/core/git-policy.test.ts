import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { GimoError } from "./errors.ts";
import { assertPushable, refNameProblem, renderLink, taskBranch } from "./git-policy.ts";

const project = {
  base_branch: "develop",
  protected_branches: ["main", "master", "dev", "development"],
  branch_prefix: "task/",
};

describe("assertPushable", () => {
  it.each([
    ["main", "refusing to push to protected branch main"],
    ["Main", "refusing to push to protected branch Main"],
    ["master", "protected branch"],
    ["development", "protected branch"],
    ["develop", "refusing to push to the base branch develop"],
    ["Develop", "refusing to push to the base branch Develop"],
    ["DEVELOP", "refusing to push to the base branch DEVELOP"],
    ["feature/x", 'GIMO pushes only task branches under "task/"'],
    ["task/", "ends with '/'"],
    ["task/x:main", "character git forbids"],
    ["refs/heads/task/x", "short branch name"],
    ["-task/x", "starts with '-'"],
    ["task/../main", "'..'"],
    ["task/a b", "character git forbids"],
    ["task/x.lock", ".lock"],
    ["task/x@{1}", "'@{'"],
    ["task/x/", "ends with '/'"],
    ["", "is empty"],
  ])("refuses %j", (branch, message) => {
    let caught: unknown;
    try {
      assertPushable(branch, project);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GimoError);
    expect((caught as GimoError).code).toBe("forbidden");
    expect((caught as GimoError).message).toContain(message);
  });

  it.each(["task/t_01HZX", "task/t_1/retry", "task/T_UPPER"])("allows %j", (branch) => {
    expect(() => assertPushable(branch, project)).not.toThrow();
  });

  it("refuses the bare prefix as a branch, when the prefix is itself a valid name", () => {
    const dashed = { ...project, branch_prefix: "gimo-" };
    expect(() => assertPushable("gimo-", dashed)).toThrow(/pushes only task branches under "gimo-"/);
    expect(() => assertPushable("gimo-t_1", dashed)).not.toThrow();
  });

  it("refuses a task branch that is itself listed as protected or as the base", () => {
    expect(() => assertPushable("task/keep", { ...project, protected_branches: ["task/keep"] })).toThrow(
      /protected branch task\/keep/,
    );
    expect(() => assertPushable("task/base", { ...project, base_branch: "task/base" })).toThrow(
      /base branch/,
    );
  });

  it("with an empty prefix still refuses protected and base branches", () => {
    const open = { ...project, branch_prefix: "" };
    expect(() => assertPushable("t_1", open)).not.toThrow();
    expect(() => assertPushable("main", open)).toThrow(/protected/);
  });
});

describe("taskBranch", () => {
  it("joins prefix and task id", () => {
    expect(taskBranch("task/", "t_01J")).toBe("task/t_01J");
    expect(taskBranch("gimo-", "t_01J")).toBe("gimo-t_01J");
  });
  it("refuses a name git would refuse", () => {
    expect(() => taskBranch("task/", "t 1")).toThrow(GimoError);
    expect(() => taskBranch("task//", "t1")).toThrow(/'\/\/'/);
  });
  it.each(["task/t_01J", "gimo-t_1", "a/b/c"])("agrees with git check-ref-format on %j", (name) => {
    expect(() => execFileSync("git", ["check-ref-format", "--branch", name])).not.toThrow();
    expect(() => taskBranch("", name)).not.toThrow();
  });
  it.each(["a..b", "a/.b", "a.lock", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "/a", "a/", "a."])(
    "rejects %j like git does",
    (name) => {
      expect(() =>
        execFileSync("git", ["check-ref-format", `refs/heads/${name}`], { stdio: "ignore" }),
      ).toThrow();
      expect(() => taskBranch("", name)).toThrow(GimoError);
    },
  );
});

describe("renderLink", () => {
  const vars = { branch: "task/t_1", task_id: "t_1", run_id: "r_9", sha: "abc123", base_branch: "main" };
  it.each([
    ["https://github.com/o/r/tree/{branch}", "https://github.com/o/r/tree/task/t_1"],
    [
      "https://gitlab.com/g/r/-/tree/{branch}?ref_type=heads",
      "https://gitlab.com/g/r/-/tree/task/t_1?ref_type=heads",
    ],
    [
      "https://github.com/o/r/compare/{base_branch}...{branch}",
      "https://github.com/o/r/compare/main...task/t_1",
    ],
    [
      "https://git.example/o/r/commit/{sha}?run={run_id}&task={task_id}",
      "https://git.example/o/r/commit/abc123?run=r_9&task=t_1",
    ],
    ["https://x/{unknown}/{branch}", "https://x/{unknown}/task/t_1"],
  ])("%s", (template, expected) => {
    expect(renderLink(template, vars)).toBe(expected);
  });
  it("escapes characters that would change the URL's meaning, segment by segment", () => {
    expect(renderLink("https://x/tree/{branch}", { ...vars, branch: "task/a#b?c&d e" })).toBe(
      "https://x/tree/task/a%23b%3Fc%26d%20e",
    );
  });
});

describe("refNameProblem (each rule alone)", () => {
  it.each([
    ["", "is empty"],
    ["a".repeat(251), "is too long"],
    ["-x", "starts with '-'"],
    ["HEAD", "is not a branch name"],
    ["@", "is not a branch name"],
    ["refs/heads/x", "must be a short branch name, not a ref"],
    ["a b", "contains a character git forbids in branch names"],
    ["a\u0001b", "contains a character git forbids in branch names"],
    ["a~1", "contains a character git forbids in branch names"],
    ["a..b", "contains '..', '@{' or '//'"],
    ["a@{b", "contains '..', '@{' or '//'"],
    ["a//b", "contains '..', '@{' or '//'"],
    ["/a", "starts or ends with '/' or '.'"],
    ["a.", "starts or ends with '/' or '.'"],
    ["a/.b", "has a component starting with '.' or ending in '.lock'"],
    ["a.lock/b", "has a component starting with '.' or ending in '.lock'"],
    [".a", "has a component starting with '.' or ending in '.lock'"],
  ])("%j %s", (name, problem) => {
    expect(refNameProblem(name)).toBe(problem);
  });

  it.each([["a".repeat(250)], ["task/t_01"], ["HEADS"], ["@x"], ["a.b/c-d_e"], ["a.locks"]])(
    "%j is a plain branch name",
    (name) => {
      expect(refNameProblem(name)).toBeUndefined();
    },
  );

  it("a task branch that is not a valid name is a validation error naming it", () => {
    expect(taskBranch("task/", "t_1")).toBe("task/t_1");
    let caught: unknown;
    try {
      taskBranch("task/", "a..b");
    } catch (error) {
      caught = error;
    }
    expect((caught as GimoError).code).toBe("validation_failed");
    expect((caught as GimoError).message).toBe(`task branch "task/a..b" contains '..', '@{' or '//'`);
  });
});
