import { describe, expect, it } from "vitest";
import { canMoveDraft, draftStatuses, revisableDraftStatuses } from "./draft-machine.ts";
import { GimoError } from "./errors.ts";
import { assertRunTransition, canMoveRun, runStatuses } from "./run-machine.ts";

describe("state machines", () => {
  it("final draft states go nowhere", () => {
    for (const from of ["approved", "rejected", "superseded"] as const) {
      for (const to of draftStatuses) expect(canMoveDraft(from, to)).toBe(false);
    }
    expect(canMoveDraft("draft", "approved")).toBe(true);
    expect(canMoveDraft("generating", "approved")).toBe(false);
  });

  it("a person may revise a draft or one whose generation failed, nothing else", () => {
    const revisable = draftStatuses.filter((s) => revisableDraftStatuses.includes(s));
    expect(revisable).toEqual(["draft", "error"]);
  });

  it("a succeeded run is final; failed and cancelled may be requeued", () => {
    for (const to of runStatuses) expect(canMoveRun("succeeded", to)).toBe(false);
    expect(canMoveRun("failed", "queued")).toBe(true);
    expect(canMoveRun("cancelled", "queued")).toBe(true);
    expect(canMoveRun("queued", "succeeded")).toBe(false);
  });

  it("an illegal transition is a 409 illegal_transition, never a silent no-op", () => {
    try {
      assertRunTransition("r_x", "succeeded", "queued");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GimoError);
      expect((error as GimoError).status).toBe(409);
      expect((error as GimoError).code).toBe("illegal_transition");
    }
  });
});
