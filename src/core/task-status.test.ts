import { describe, expect, it } from "vitest";
import { deriveTaskStatus } from "./task-status.ts";

describe("derived task status", () => {
  const cases: [Parameters<typeof deriveTaskStatus>[0], string][] = [
    [{ latestDraft: "generating", hasApproval: false, runs: [] }, "PLANNING"],
    [{ latestDraft: "draft", hasApproval: false, runs: [] }, "PLANNED"],
    [{ latestDraft: "rejected", hasApproval: false, runs: [] }, "REJECTED"],
    [{ latestDraft: "error", hasApproval: false, runs: [] }, "FAILED"],
    [{ latestDraft: "approved", hasApproval: true, runs: [] }, "APPROVED"],
    [{ latestDraft: "approved", hasApproval: true, runs: ["queued"] }, "EXECUTING"],
    [{ latestDraft: "approved", hasApproval: true, runs: ["succeeded", "running"] }, "EXECUTING"],
    [{ latestDraft: "approved", hasApproval: true, runs: ["succeeded", "failed"] }, "COMPLETED"],
    [{ latestDraft: "approved", hasApproval: true, runs: ["failed", "succeeded"] }, "FAILED"],
    [{ latestDraft: "approved", hasApproval: true, runs: ["cancelled"] }, "CANCELLED"],
    [{ latestDraft: "draft", hasApproval: true, runs: [] }, "PLANNED"],
  ];
  it.each(cases)("%j → %s", (facts, expected) => {
    expect(deriveTaskStatus(facts)).toBe(expected);
  });
});
