import type { DraftStatus } from "./draft-machine.ts";
import type { RunStatus } from "./run-machine.ts";

/**
 * A task's status is derived, never set by hand (SPEC §1, the seeds' vocabulary):
 *
 *   EXECUTING  a run is queued or running
 *   COMPLETED / FAILED / CANCELLED   the latest run ended so
 *   APPROVED   approved, no run yet
 *   PLANNING   the latest draft is generating
 *   PLANNED    the latest draft awaits approval
 *   REJECTED   the latest draft was rejected
 *   FAILED     the latest draft failed to generate
 *
 * The store keeps the derived value beside the task so lists can filter by it; it is recomputed in
 * the same transaction as every change to the task's drafts or runs.
 */
export const taskStatuses = [
  "PLANNING",
  "PLANNED",
  "APPROVED",
  "EXECUTING",
  "COMPLETED",
  "FAILED",
  "REJECTED",
  "CANCELLED",
] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export interface TaskFacts {
  /** Status of the newest draft revision, if any. */
  latestDraft: DraftStatus | undefined;
  hasApproval: boolean;
  /** Statuses of the task's runs, newest first. */
  runs: readonly RunStatus[];
}

export function deriveTaskStatus(facts: TaskFacts): TaskStatus {
  const byRuns = statusFromRuns(facts.runs);
  if (byRuns) return byRuns;
  if (facts.hasApproval && (facts.latestDraft === "approved" || facts.latestDraft === undefined)) {
    return "APPROVED";
  }
  switch (facts.latestDraft) {
    case "generating":
      return "PLANNING";
    case "draft":
      return "PLANNED";
    case "rejected":
      return "REJECTED";
    case "error":
      return "FAILED";
    case "approved":
      return "APPROVED";
    default:
      return "PLANNED";
  }
}

/**
 * The status a task's runs decide alone, newest first: once a task has a run, its drafts no longer
 * matter (every run status is active or ended). Undefined for a task without runs.
 */
export function statusFromRuns(runs: readonly RunStatus[]): TaskStatus | undefined {
  if (runs.some((s) => s === "queued" || s === "running")) return "EXECUTING";
  switch (runs[0]) {
    case "succeeded":
      return "COMPLETED";
    case "failed":
      return "FAILED";
    case "cancelled":
      return "CANCELLED";
  }
  return undefined;
}
