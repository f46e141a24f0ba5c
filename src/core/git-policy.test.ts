import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { GimoError } from "./errors.ts";
import {
  assertPushable,
  commitSubject,
  conventionalMessage,
  inferCommitType,
  renderLink,
  SUBJECT_MAX,
  taskBranch,
  wrapMarkdown,
} from "./git-policy.ts";

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

describe("conventional commit messages", () => {
  it.each([
    ["Add CSV export to the reports page", "feat"],
    ["Validate negative stock in sales", "feat"],
    ["Fix crash when the cart is empty", "fix"],
    ["Handle timeouts in the payment client", "fix"],
    ["Memory leak in the image cache", "fix"],
    ["Add unit tests for the parser", "test"],
    ["Add a regression test for the empty cart", "test"],
    ["Validate quantities and add unit tests", "feat"],
    ["Fix the flaky queue tests", "test"],
    ["Tests for negative quantities", "test"],
    ["Update the README with setup steps", "docs"],
    ["Document the runner protocol", "docs"],
    ["Fix typos in the docs", "docs"],
    ["Refactor the queue into smaller modules", "refactor"],
    ["Rename UserService to AccountService", "refactor"],
    ["Bump vitest to 4.1", "chore"],
    ["Upgrade dependencies", "chore"],
    ["fix(api): reject empty bodies", "fix"],
    ["perf: cache parsed plans", "refactor"],
    ["ci: run on PostgreSQL too", "chore"],
  ])("%j → %s", (title, type) => {
    expect(inferCommitType(title)).toBe(type);
  });

  it.each([
    ["Validate negative stock in sales.", "feat: validate negative stock in sales"],
    ["README: explain the two commands", "docs: README: explain the two commands"],
    ["fix(api): Reject empty bodies", "fix: reject empty bodies"],
    ["  Add\n  multi-line   title ", "feat: add multi-line title"],
    ["", "feat: changes"],
  ])("subject of %j is %j", (title, subject) => {
    expect(commitSubject(title)).toBe(subject);
  });

  it("keeps the subject within 72 characters, cut at a word", () => {
    const subject = commitSubject(`Add ${"very ".repeat(30)}long feature`);
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(subject).toMatch(/^feat: add very (very )+very…$/);
  });

  it("wraps the summary and ends with the trailers, parsed as trailers by git", () => {
    const message = conventionalMessage(
      {
        title: "Validate negative stock in sales",
        summary:
          "Sales with a negative quantity are refused with a clear error instead of silently lowering the stock below zero.\n\n- one item that is long enough to wrap around the seventy-two column limit of commit bodies\n- short\n\n```\nconst x = 'a very long line of code that must not be wrapped by the commit message formatter at all';\n```",
        risk: "medium",
      },
      { run: "r_01RUN", approved: "a_01APP", hash: "sha256:abcd" },
    );
    const lines = message.split("\n");
    expect(lines[0]).toBe("feat: validate negative stock in sales");
    expect(lines[1]).toBe("");
    for (const line of lines) if (!line.startsWith("const x")) expect(line.length).toBeLessThanOrEqual(72);
    expect(message).toContain(
      "- one item that is long enough to wrap around the seventy-two column\n  limit of commit bodies",
    );
    expect(message).toContain("const x = 'a very long line of code that must not be wrapped");
    expect(
      message.endsWith("Gimo-Risk: medium\nGimo-Run: r_01RUN\nGimo-Approved: a_01APP sha256:abcd\n"),
    ).toBe(true);
    const parsed = execFileSync("git", ["interpret-trailers", "--parse"], { input: message }).toString();
    expect(parsed).toBe("Gimo-Risk: medium\nGimo-Run: r_01RUN\nGimo-Approved: a_01APP sha256:abcd\n");
  });

  it("a summary cannot forge the trailers, and low risk adds none", () => {
    const message = conventionalMessage(
      { title: "Add x", summary: "Gimo-Run: r_FORGED\nGimo-Approved: a_FORGED sha256:0", risk: "low" },
      { run: "r_REAL", approved: "a_REAL", hash: "sha256:1" },
    );
    const parsed = execFileSync("git", ["interpret-trailers", "--parse"], { input: message }).toString();
    expect(parsed).toBe("Gimo-Run: r_REAL\nGimo-Approved: a_REAL sha256:1\n");
  });

  it("without a summary the message is subject and trailers", () => {
    expect(conventionalMessage({ title: "Add x" }, { run: "r_1", approved: "a_1", hash: "sha256:2" })).toBe(
      "feat: add x\n\nGimo-Run: r_1\nGimo-Approved: a_1 sha256:2\n",
    );
  });

  it("wrapMarkdown keeps headings and tables, wraps prose", () => {
    const text = `# Heading that is long but stays on one line because headings are not wrapped\n| a | b |\nword ${"word ".repeat(20)}`;
    const out = wrapMarkdown(text, 40).split("\n");
    expect(out[0]).toMatch(/^# Heading/);
    expect(out[1]).toBe("| a | b |");
    for (const line of out.slice(2)) expect(line.length).toBeLessThanOrEqual(40);
  });
});
