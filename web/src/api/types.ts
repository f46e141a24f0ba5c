/**
 * The shapes the UI reads and writes, inferred from the server's zod contract (`src/contract/`),
 * so a field renamed there fails the UI's typecheck. Type-only imports: none of the contract's
 * runtime comes into the bundle from here.
 */
import type { z } from "zod";
import type { Approved } from "../../../src/contract/approved.ts";
import type { Chat, ChatAnswer, ChatMessage, ChatMessagePage, ChatPage } from "../../../src/contract/chat.ts";
import type { Draft } from "../../../src/contract/draft.ts";
import type { AuditVerify, Event, EventPage } from "../../../src/contract/event.ts";
import type { IntegrationList } from "../../../src/contract/integration.ts";
import type { PlanContent, PlanStep } from "../../../src/contract/plan.ts";
import type { CredentialList, CredentialRequest } from "../../../src/contract/planning.ts";
import type { Project, ProjectCreate, ProjectPage } from "../../../src/contract/project.ts";
import type { Run, RunDiff, RunPage } from "../../../src/contract/run.ts";
import type {
  Metrics,
  RunLogLine,
  RunLogPage,
  RunnerList,
  RunnerView,
} from "../../../src/contract/runner.ts";
import type { Panic, Status, Whoami } from "../../../src/contract/system.ts";
import type { Task, TaskDetail, TaskPage } from "../../../src/contract/task.ts";
import type { TokenCreated, TokenInfo, TokenPage } from "../../../src/contract/token.ts";

type WhoAmI = z.infer<typeof Whoami>;

export type { Approved, Draft, Panic, PlanContent, Project, ProjectCreate, Run, RunDiff, Task, WhoAmI };
export type ChatT = Chat;
export type ChatMessageT = ChatMessage;
export type ChatAnswerT = ChatAnswer;
export type ChatPageT = z.infer<typeof ChatPage>;
export type ChatMessagePageT = z.infer<typeof ChatMessagePage>;
export type PlanStepT = z.infer<typeof PlanStep>;
export type TaskDetailT = z.infer<typeof TaskDetail>;
export type TaskPageT = z.infer<typeof TaskPage>;
export type RunPageT = z.infer<typeof RunPage>;
export type ProjectPageT = z.infer<typeof ProjectPage>;
export type EventT = z.infer<typeof Event>;
export type EventPageT = z.infer<typeof EventPage>;
export type AuditVerifyT = z.infer<typeof AuditVerify>;
export type StatusT = z.infer<typeof Status>;
export type MetricsT = z.infer<typeof Metrics>;
export type RunnerT = z.infer<typeof RunnerView>;
export type RunnerListT = z.infer<typeof RunnerList>;
export type LogLineT = z.infer<typeof RunLogLine>;
export type LogPageT = z.infer<typeof RunLogPage>;
export type TokenInfoT = z.infer<typeof TokenInfo>;
export type TokenCreatedT = z.infer<typeof TokenCreated>;
export type TokenPageT = z.infer<typeof TokenPage>;
export type IntegrationListT = z.infer<typeof IntegrationList>;
export type CredentialRequestT = z.infer<typeof CredentialRequest>;
export type CredentialListT = z.infer<typeof CredentialList>;
export type Role = WhoAmI["role"];

/** GET /ops/provider and /ops/provider/health (declared in the route file, mirrored here). */
export interface ProviderViewT {
  type: string;
  base_url?: string;
  model: string;
  api_key?: string;
  api_key_set: boolean;
  options?: Record<string, unknown>;
}
export interface ProvidersT {
  planner: ProviderViewT | null;
  executor: ProviderViewT | null;
}
export interface ProviderHealthT {
  type: string;
  model: string;
  ok: boolean;
  latency_ms: number;
  detail?: string;
}
export interface ProvidersHealthT {
  planner: ProviderHealthT | null;
  executor: ProviderHealthT | null;
}
