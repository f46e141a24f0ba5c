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

  // The cases only one condition decides (each would pass with that condition gone otherwise).
  const edges: [Parameters<typeof deriveTaskStatus>[0], string][] = [
    [{ latestDraft: undefined, hasApproval: true, runs: [] }, "APPROVED"],
    [{ latestDraft: undefined, hasApproval: false, runs: [] }, "PLANNED"],
    [{ latestDraft: "approved", hasApproval: false, runs: [] }, "APPROVED"],
    [{ latestDraft: "superseded", hasApproval: false, runs: [] }, "PLANNED"],
    [{ latestDraft: "superseded", hasApproval: true, runs: [] }, "PLANNED"],
    [{ latestDraft: "rejected", hasApproval: true, runs: [] }, "REJECTED"],
    [{ latestDraft: "generating", hasApproval: true, runs: [] }, "PLANNING"],
    [{ latestDraft: "error", hasApproval: true, runs: [] }, "FAILED"],
    [{ latestDraft: "draft", hasApproval: true, runs: ["succeeded"] }, "COMPLETED"],
    [{ latestDraft: "generating", hasApproval: true, runs: ["running"] }, "EXECUTING"],
    [{ latestDraft: "rejected", hasApproval: true, runs: ["cancelled", "succeeded"] }, "CANCELLED"],
  ];
  it.each(edges)("%j → %s", (facts, expected) => {
    expect(deriveTaskStatus(facts)).toBe(expected);
  });
});
