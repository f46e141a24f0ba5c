/**
 * The draft state machine.
 *
 *   generating ──▶ draft ──▶ approved
 *        │           │ └───▶ rejected
 *        ▼           └─────▶ superseded   (a newer revision of the same task exists)
 *      error ──────────────▶ superseded
 *
 * A draft is editable only while `draft`. `approved`, `rejected` and `superseded` are final.
 * Every transition is applied as a compare-and-swap on the current status; a transition that is
 * not in this table is `illegal_transition` (409), never a silent no-op.
 */
import { GimoError } from "./errors.ts";

export const draftStatuses = ["generating", "draft", "approved", "rejected", "superseded", "error"] as const;
export type DraftStatus = (typeof draftStatuses)[number];

const transitions: Record<DraftStatus, readonly DraftStatus[]> = {
  generating: ["draft", "error", "superseded"],
  draft: ["approved", "rejected", "superseded"],
  error: ["superseded"],
  approved: [],
  rejected: [],
  superseded: [],
};

export function canMoveDraft(from: DraftStatus, to: DraftStatus): boolean {
  return transitions[from].includes(to);
}

export function assertDraftTransition(id: string, from: DraftStatus, to: DraftStatus): void {
  if (!canMoveDraft(from, to)) {
    throw new GimoError("illegal_transition", `draft ${id} is ${from}; it cannot become ${to}`, {
      from,
      to,
    });
  }
}

/**
 * The statuses a person may revise from (`POST /ops/drafts/{id}/revise`): a draft, or one whose
 * generation failed. A draft still generating is superseded only by a new draft of its task.
 */
export const revisableDraftStatuses: readonly DraftStatus[] = ["draft", "error"];

/** The statuses from which a draft may still be replaced by a newer revision. */
export const supersedableDraftStatuses = draftStatuses.filter((s) => canMoveDraft(s, "superseded"));
