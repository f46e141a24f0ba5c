/**
 * The contract's response schemas the client checks answers against. Loaded on first use (client.ts
 * `validate`), so a command that never validates never pays for building them.
 */
export { Approved, ApprovedPage } from "../contract/approved.ts";
export { ApproveResult, Draft, DraftPage } from "../contract/draft.ts";
export { AuditHead, AuditVerify, Event, EventPage } from "../contract/event.ts";
export { CallOutcome, RunIntegrationTools } from "../contract/integration.ts";
export { PlanDoc } from "../contract/plan-doc.ts";
export { ProposeResult } from "../contract/planning.ts";
export { Project, ProjectDeleted, ProjectPage } from "../contract/project.ts";
export { ProjectContext } from "../contract/project-context.ts";
export { ProvidersHealth, ProvidersView } from "../contract/provider.ts";
export { Run, RunPage } from "../contract/run.ts";
export {
  ClaimedRun,
  CompleteResult,
  LeaseResult,
  Metrics,
  RunLogPage,
  RunnerList,
  RunnerRegistered,
  RunnerStatus,
} from "../contract/runner.ts";
export { Health, Panic, PurgeResult, Status, Whoami } from "../contract/system.ts";
export { TaskDetail, TaskPage } from "../contract/task.ts";
export { TokenCreated, TokenInfo, TokenPage } from "../contract/token.ts";
