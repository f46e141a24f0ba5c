import { describe, expect, it } from "vitest";
import { draftStatuses } from "./draft-machine.ts";
import { type RunStatus, runStatuses } from "./run-machine.ts";
import { deriveTaskStatus, statusFromRuns } from "./task-status.ts";

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

  // The store reads a task's drafts only when it has no run (store/task-status.ts): that is only
  // right while runs alone decide the derivation of every task that has one.
  it("lets runs alone decide for a task with runs, whatever its drafts say; nothing without runs", () => {
    let sequences: RunStatus[][] = [[]];
    const all: RunStatus[][] = [];
    for (let n = 1; n <= 3; n++) {
      sequences = sequences.flatMap((s) => runStatuses.map((status) => [...s, status]));
      all.push(...sequences);
    }
    for (const runs of all)
      for (const latestDraft of [undefined, ...draftStatuses])
        for (const hasApproval of [false, true])
          expect(statusFromRuns(runs)).toBe(deriveTaskStatus({ latestDraft, hasApproval, runs }));
    expect(statusFromRuns([])).toBeUndefined();
  });
});
