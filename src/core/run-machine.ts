/**
 * The run state machine (SPEC §1, §6).
 *
 *   queued ──claim──▶ running ──complete──▶ succeeded | failed | cancelled
 *     ▲  │              │
 *     │  └─cancel──▶ cancelled
 *     │                 └─lease lost / infra failure (attempts left)──▶ queued (run_after = backoff)
 *     └──requeue── failed | cancelled
 *
 * `cancel` on a queued run ends it at once; on a running run it only sets `cancel_requested`,
 * and the runner that holds the lease stops within one heartbeat and completes it as `cancelled`.
 * `attempt` grows by one at each claim and never goes back: it is the fencing token that every
 * runner call carries, so a runner that lost its lease can never write over a newer attempt.
 */
import { GimoError } from "./errors.ts";

export const runStatuses = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type RunStatus = (typeof runStatuses)[number];

export const terminalRunStatuses = [
  "succeeded",
  "failed",
  "cancelled",
] as const satisfies readonly RunStatus[];
export const activeRunStatuses = ["queued", "running"] as const satisfies readonly RunStatus[];

const transitions: Record<RunStatus, readonly RunStatus[]> = {
  queued: ["running", "cancelled"],
  running: ["succeeded", "failed", "cancelled", "queued"],
  succeeded: [],
  failed: ["queued"],
  cancelled: ["queued"],
};

export function canMoveRun(from: RunStatus, to: RunStatus): boolean {
  return transitions[from].includes(to);
}

export function assertRunTransition(id: string, from: RunStatus, to: RunStatus): void {
  if (!canMoveRun(from, to)) {
    throw new GimoError("illegal_transition", `run ${id} is ${from}; it cannot become ${to}`, { from, to });
  }
}

export function isTerminalRun(status: RunStatus): boolean {
  return (terminalRunStatuses as readonly RunStatus[]).includes(status);
}
