/**
 * Compare-and-swap on a status column, with the state machine as data: `casRun(w, id, from, to)`
 * asserts `from → to` is in the run transition table (core/run-machine.ts) and answers the UPDATE
 * of that row, guarded by `status = from`, with the new status and `updated_at` already set; the
 * caller adds its other columns (`.set`), any further guard (`.where`: the fence, the attempt) and
 * decides what a lost race means (no row updated). `to` undefined keeps the status (a fenced write
 * that is not a transition). `casDraft` is the same for drafts (core/draft-machine.ts).
 *
 * Every status change of a run or a draft written in TypeScript goes through here: claim
 * (queue-sqlite.ts), completion (`fenced`, queue-store.ts), the sweep, cancel and requeue
 * (app/runs.ts), planning's finish and approve/reject (app/planning.ts, app/drafts.ts). The
 * PostgreSQL queue functions (store/sql/) write the same transitions in PL/pgSQL.
 */
import { assertDraftTransition, type DraftStatus } from "../core/draft-machine.ts";
import { assertRunTransition, type RunStatus } from "../core/run-machine.ts";
import type { Write } from "./store.ts";

export function casRun(w: Write, id: string, from: RunStatus, to: RunStatus | undefined) {
  if (to !== undefined) assertRunTransition(id, from, to);
  return w.tx
    .updateTable("runs")
    .set(to === undefined ? { updated_at: w.now } : { status: to, updated_at: w.now })
    .where("id", "=", id)
    .where("status", "=", from);
}

export function casDraft(w: Write, id: string, from: DraftStatus, to: DraftStatus) {
  assertDraftTransition(id, from, to);
  return w.tx
    .updateTable("drafts")
    .set({ status: to, updated_at: w.now })
    .where("id", "=", id)
    .where("status", "=", from);
}
