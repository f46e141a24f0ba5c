import type { DraftStatus } from "../core/draft-machine.ts";
import type { RunStatus } from "../core/run-machine.ts";
import type { TaskStatus } from "../core/task-status.ts";

/**
 * Row types of every table, as Kysely sees them. Timestamps are ISO-8601 UTC text (they sort and
 * compare the same on SQLite and PostgreSQL), JSON documents are text, booleans are 0/1 integers.
 */
export interface ProjectsTable {
  id: string;
  name: string;
  repo_path: string | null;
  repo_url: string | null;
  config: string;
  is_default: number;
  /** Copied from config so the claim query can admit runs without parsing JSON. */
  max_concurrent_runs: number;
  /** Set when archived (no new tasks, chats or runs); null while open. */
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface PlansTable {
  project_id: string;
  doc: string;
  version: number;
  updated_at: string;
  updated_by: string | null;
}

export interface TasksTable {
  id: string;
  project_id: string;
  prompt: string;
  status: TaskStatus;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface DraftsTable {
  id: string;
  task_id: string;
  project_id: string;
  rev: number;
  status: DraftStatus;
  prompt: string;
  plan: string | null;
  error: string | null;
  prompt_hash: string | null;
  /** JSON {input_tokens, output_tokens} of the planner calls that wrote it. */
  usage: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface ApprovedTable {
  id: string;
  draft_id: string;
  task_id: string;
  project_id: string;
  prompt: string;
  plan: string;
  content_hash: string;
  approved_by: string;
  approved_at: string;
  auto_run: number;
}

export interface RunsTable {
  id: string;
  approved_id: string;
  task_id: string;
  project_id: string;
  status: RunStatus;
  priority: number;
  attempt: number;
  max_attempts: number;
  run_after: string;
  depends_on: string;
  cancel_requested: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** The executor (type, endpoint, model) whose concurrency slot a running run holds. */
  provider_key: string | null;
  steps: string;
  result: string | null;
  error: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  /**
   * The W3C traceparent of the span that queued it, when tracing is on (core/tracing.ts; migration
   * 0015): its claim and its runner's spans join that trace.
   */
  trace_context?: string | null;
}

export interface RunDependenciesTable {
  run_id: string;
  depends_on: string;
}

export interface EventsTable {
  seq: number;
  ts: string;
  actor: string;
  role: string;
  type: string;
  subject: string;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface EventHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface TokensTable {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface IdempotencyTable {
  actor: string;
  key: string;
  fingerprint: string;
  status: number;
  body: string;
  created_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: string;
}

export interface RunnersTable {
  id: string;
  name: string;
  labels: string;
  capacity: number;
  /** 1 when it runs agent steps with the server's executor (the built-in executor). */
  uses_executor: number;
  registered_at: string;
  last_heartbeat_at: string;
  stopped_at: string | null;
}

export interface RunLogsTable {
  run_id: string;
  seq: number;
  attempt: number;
  ts: string;
  level: string;
  msg: string;
  step_id: string | null;
  correlation_id: string | null;
}

export interface Database {
  projects: ProjectsTable;
  plans: PlansTable;
  tasks: TasksTable;
  drafts: DraftsTable;
  approved: ApprovedTable;
  runs: RunsTable;
  run_dependencies: RunDependenciesTable;
  events: EventsTable;
  event_head: EventHeadTable;
  tokens: TokensTable;
  idempotency: IdempotencyTable;
  settings: SettingsTable;
  runners: RunnersTable;
  run_logs: RunLogsTable;
  chats: ChatsTable;
  chat_messages: ChatMessagesTable;
  chat_tasks: ChatTasksTable;
  telegram_chats: TelegramChatsTable;
  leases: LeasesTable;
  vault_secrets: VaultSecretsTable;
  credential_requests: CredentialRequestsTable;
  integrations: IntegrationsTable;
}

export interface ChatsTable {
  id: string;
  project_id: string;
  title: string;
  archived: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface ChatMessagesTable {
  id: string;
  chat_id: string;
  /** user | assistant | system */
  role: string;
  /** text | plan | answer | progress | result | error */
  kind: string;
  text: string;
  data: string | null;
  author: string;
  /** Set by background followers: unique per chat, so a message is never posted twice. */
  origin: string | null;
  created_at: string;
}

export interface ChatTasksTable {
  task_id: string;
  chat_id: string;
  created_at: string;
}

export interface TelegramChatsTable {
  telegram_chat_id: string;
  chat_id: string;
  /** A draft id while the bot waits for the feedback of a Revise press. */
  awaiting_revision: string | null;
  updated_at: string;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: string;
}

/** A secret of the vault on PostgreSQL: the name and value sealed together (never in clear). */
export interface VaultSecretsTable {
  name: string;
  sealed: string;
  updated_at: string;
}

/** `REQ-<number>` of a `${VAR}` the configuration names. */
export interface CredentialRequestsTable {
  name: string;
  number: number;
}
export interface IntegrationsTable {
  id: string;
  name: string;
  /** openapi | mcp */
  kind: string;
  /** JSON: base_url | stdio, headers (literal secrets sealed), allow_*, timeout_ms, max_response_bytes… */
  config: string;
  /** JSON array of the operations the last successful discovery found. */
  operations: string;
  /** JSON array of `{operation, projects?}`. */
  allowlist: string;
  /** online | offline */
  status: string;
  discovery_error: string | null;
  discovered_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}
