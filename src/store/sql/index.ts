import { chainedApproval, claim, claimCore, claimWalk, projectRunning, providerRunning } from "./claim.ts";
import { completeCore, completeMany, taskStatus } from "./complete.ts";
import { appendEvents, appendEventsAs } from "./event-log.ts";

/**
 * The PostgreSQL queue functions, each `create or replace`, in the order they must be created
 * (a SQL-language function's body is checked against what exists when it is created).
 */
export const queueFunctions: readonly string[] = [
  appendEventsAs,
  appendEvents,
  projectRunning,
  providerRunning,
  claimWalk,
  chainedApproval,
  claimCore,
  claim,
  taskStatus,
  completeCore,
  completeMany,
];
