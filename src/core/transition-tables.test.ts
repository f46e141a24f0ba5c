import { describe, expect, it } from "vitest";
import {
  assertDraftTransition,
  canMoveDraft,
  type DraftStatus,
  draftStatuses,
  supersedableDraftStatuses,
} from "./draft-machine.ts";
import { GimoError } from "./errors.ts";
import {
  activeRunStatuses,
  assertRunTransition,
  canMoveRun,
  isTerminalRun,
  type RunStatus,
  runStatuses,
  terminalRunStatuses,
} from "./run-machine.ts";

/**
 * The two state machines written out by hand from SPEC §1 and §6, every (from, to) pair checked:
 * adding, removing or misspelling one edge of either table fails here.
 */
const draftEdges: Record<DraftStatus, DraftStatus[]> = {
  generating: ["draft", "error", "superseded"],
  draft: ["approved", "rejected", "superseded"],
  error: ["superseded"],
  approved: [],
  rejected: [],
  superseded: [],
};
const runEdges: Record<RunStatus, RunStatus[]> = {
  queued: ["running", "cancelled"],
  running: ["succeeded", "failed", "cancelled", "queued"],
  succeeded: [],
  failed: ["queued"],
  cancelled: ["queued"],
};

const pairs = <S extends string>(all: readonly S[]) =>
  all.flatMap((from) => all.map((to) => [from, to] as const));

describe("the draft state machine", () => {
  it.each(pairs(draftStatuses))("%s → %s", (from, to) => {
    const legal = draftEdges[from].includes(to);
    expect(canMoveDraft(from, to)).toBe(legal);
    if (legal) expect(() => assertDraftTransition("d_1", from, to)).not.toThrow();
    else {
      let caught: unknown;
      try {
        assertDraftTransition("d_1", from, to);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(GimoError);
      expect((caught as GimoError).code).toBe("illegal_transition");
      expect((caught as GimoError).message).toBe(`draft d_1 is ${from}; it cannot become ${to}`);
      expect((caught as GimoError).details).toEqual({ from, to });
    }
  });

  it("only generating, draft and error drafts may be superseded", () => {
    expect([...supersedableDraftStatuses].sort()).toEqual(["draft", "error", "generating"]);
  });
});

describe("the run state machine", () => {
  it.each(pairs(runStatuses))("%s → %s", (from, to) => {
    const legal = runEdges[from].includes(to);
    expect(canMoveRun(from, to)).toBe(legal);
    if (legal) expect(() => assertRunTransition("r_1", from, to)).not.toThrow();
    else {
      let caught: unknown;
      try {
        assertRunTransition("r_1", from, to);
      } catch (error) {
        caught = error;
      }
      expect((caught as GimoError).code).toBe("illegal_transition");
      expect((caught as GimoError).message).toBe(`run r_1 is ${from}; it cannot become ${to}`);
      expect((caught as GimoError).details).toEqual({ from, to });
    }
  });

  it("terminal and active statuses partition the run statuses", () => {
    expect([...terminalRunStatuses].sort()).toEqual(["cancelled", "failed", "succeeded"]);
    expect([...activeRunStatuses].sort()).toEqual(["queued", "running"]);
    for (const s of runStatuses)
      expect(isTerminalRun(s)).toBe((terminalRunStatuses as readonly string[]).includes(s));
    expect(isTerminalRun("running")).toBe(false);
    expect(isTerminalRun("failed")).toBe(true);
  });
});
