import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  commitSubject,
  conventionalMessage,
  inferCommitType,
  SUBJECT_MAX,
  wrapMarkdown,
} from "./commit-message.ts";

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
