import { describe, expect, it } from "vitest";
import { StepTracker } from "./step-tracker.ts";

describe("StepTracker", () => {
  it("gives a log line without a step the step running then, and none between steps", () => {
    const t = new StepTracker(["s1", "s2"]);
    expect(t.stepOf(undefined)).toBeUndefined();
    t.update({ id: "s1", status: "running" });
    expect(t.stepOf(undefined)).toBe("s1");
    expect(t.stepOf("s2")).toBe("s2");
    t.update({ id: "s1", status: "succeeded" });
    expect(t.stepOf(undefined)).toBeUndefined();
  });

  it("counts a finished step's attempts by its starts unless the handler counted them", () => {
    const t = new StepTracker(["s1", "s2"]);
    expect(t.update({ id: "s1", status: "running" })).toMatchObject({ attempts: 1 });
    expect(t.update({ id: "s1", status: "succeeded" })).toMatchObject({ attempts: 1 });
    // A fix iteration reopens it: a second attempt.
    expect(t.update({ id: "s1", status: "running" })).toMatchObject({ attempts: 2 });
    expect(t.update({ id: "s1", status: "succeeded" })).toMatchObject({ attempts: 2 });
    t.update({ id: "s2", status: "running" });
    expect(t.update({ id: "s2", status: "failed", attempts: 3 })).toMatchObject({ attempts: 3 });
  });

  it("on a failed end fails the running step and skips the ones never reached", () => {
    const t = new StepTracker(["s1", "s2", "s3"]);
    t.update({ id: "s1", status: "running" });
    t.update({ id: "s1", status: "succeeded" });
    t.update({ id: "s2", status: "running" });
    expect(t.close(false, "the agent repeated read_file")).toEqual([
      { id: "s2", status: "failed", detail: "the agent repeated read_file", attempts: 1 },
      { id: "s3", status: "skipped" },
    ]);
    expect(t.stepOf(undefined)).toBeUndefined();
  });

  it("changes nothing when the run succeeded", () => {
    const t = new StepTracker(["s1"]);
    t.update({ id: "s1", status: "running" });
    expect(t.close(true, "succeeded")).toEqual([]);
  });
});
