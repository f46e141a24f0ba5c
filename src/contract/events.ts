/**
 * The event catalogue: every event type GIMO appends to its log, with the shape of its `data`.
 *
 * An event is `{seq, ts, actor, role, type, subject, data, prev_hash, hash}` (contract/event.ts);
 * this file says, per `type`, what `subject` is (in the comment on each entry) and what `data`
 * holds. `Write.emit` (store/store.ts) is typed against it, so TypeScript cannot append a name or a
 * payload that is not here; the PostgreSQL queue functions (store/sql/) write `run.started`,
 * `run.retry`, `run.succeeded` / `run.failed` / `run.cancelled` and `task.status` themselves, and
 * a test holds their names and payloads to this catalogue (test/event-catalogue.test.ts). The
 * names are what `/ops/events` and `/ops/runs/{id}/events` put in each frame's `event:` line:
 * the web UI, chat and Telegram subscribe by them (`eventTypes`, `runTerminalEvents`).
 *
 * Payloads are objects of plain JSON; a key may be added to a payload (readers ignore what they
 * do not know), never removed or retyped. Which roles see which events is core/event-visibility.
 */
import { z } from "@hono/zod-openapi";
import { draftStatuses } from "../core/draft-machine.ts";
import { taskStatuses } from "../core/task-status.ts";
import { callStatuses } from "./integration.ts";

const Usage = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() });
const Reason = z.string().nullable();
const stepStatuses = ["pending", "running", "succeeded", "failed", "skipped"] as const;

/** An attempt of a run ended: the fields every end carries. */
const AttemptEnded = z.object({
  task_id: z.string(),
  attempt: z.number().int(),
  /** The run's failure code (run.failed; run.cancelled when the end was reported or swept). */
  error_code: z.string().optional(),
  /** A swept run: the runner whose lease expired. */
  runner_id: z.string().nullable().optional(),
  /** A swept run: its error as stored on the run. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const eventPayloads = {
  // Projects (subject: the project id).
  "project.created": z.object({
    name: z.string(),
    repo_path: z.string().nullable(),
    repo_url: z.string().nullable(),
    is_default: z.boolean(),
  }),
  "project.updated": z.object({ fields: z.array(z.string()) }),
  "project.archived": z.object({ name: z.string() }),
  "project.unarchived": z.object({ name: z.string() }),
  /** Deleted while nothing referenced it; its earlier events stay. */
  "project.deleted": z.object({ name: z.string() }),
  // Planning (subject: the project id).
  "plan.proposed": z.object({ drafts: z.array(z.string()), usage: Usage }),
  "plan.updated": z.object({ version: z.number().int() }),
  // Tasks (subject: the task id).
  "task.created": z.object({ project_id: z.string() }),
  "task.status": z.object({ from: z.enum(taskStatuses), to: z.enum(taskStatuses) }),
  // Drafts (subject: the draft id).
  "draft.created": z.object({
    task_id: z.string(),
    rev: z.number().int(),
    status: z.enum(draftStatuses),
    has_plan: z.boolean(),
  }),
  "draft.generated": z.object({
    task_id: z.string(),
    prompt_hash: z.string().optional(),
    usage: Usage.optional(),
  }),
  "draft.failed": z.object({ task_id: z.string(), code: z.string(), message: z.string() }),
  "draft.edited": z.object({ fields: z.array(z.string()) }),
  "draft.superseded": z.object({ task_id: z.string(), by_rev: z.number().int() }),
  "draft.approved": z.object({
    approved_id: z.string(),
    task_id: z.string(),
    content_hash: z.string(),
    auto_run: z.boolean(),
  }),
  "draft.rejected": z.object({ task_id: z.string(), reason: Reason }),
  // Runs (subject: the run id).
  "run.queued": z.object({
    task_id: z.string(),
    approved_id: z.string(),
    content_hash: z.string(),
    depends_on: z.array(z.string()),
    priority: z.number().int(),
  }),
  "run.started": z.object({ task_id: z.string(), attempt: z.number().int(), runner_id: z.string() }),
  "run.logs": z.object({
    task_id: z.string(),
    attempt: z.number().int(),
    /** The run's log lines `from_seq`..`to_seq`; a run's own stream carries them as `lines`. */
    from_seq: z.number().int(),
    to_seq: z.number().int(),
  }),
  "run.step": z.object({ task_id: z.string(), step_id: z.string(), status: z.enum(stepStatuses) }),
  "run.retry": z.object({
    task_id: z.string(),
    attempt: z.number().int(),
    error_code: z.string().nullable(),
    wait_seconds: z.number(),
  }),
  "run.lease_expired": z.object({
    task_id: z.string(),
    attempt: z.number().int(),
    runner_id: z.string().nullable(),
    requeued: z.literal(true),
  }),
  "run.cancel_requested": z.object({ task_id: z.string(), reason: Reason }),
  "run.requeued": z.object({ task_id: z.string(), backoff_seconds: z.number() }),
  "run.succeeded": AttemptEnded,
  "run.failed": AttemptEnded,
  /** Cancelled before it was claimed (no attempt), on a runner's report, or swept while stopping. */
  "run.cancelled": AttemptEnded.partial({ attempt: true }).extend({ reason: Reason.optional() }),
  // Runners (subject: the runner id).
  "runner.registered": z.object({
    name: z.string(),
    labels: z.array(z.string()),
    capacity: z.number().int(),
    uses_executor: z.boolean().optional(),
  }),
  "runner.stopped": z.object({}),
  // Configuration (subject: "provider", "panic", "configuration").
  "provider.updated": z.object({
    roles: z.array(z.string()),
    types: z.record(z.string(), z.string().nullable()),
  }),
  "panic.on": z.object({ reason: Reason }),
  "panic.off": z.object({ reason: Reason }),
  /** Plain secrets in stored configuration were sealed into the vault: the provider settings, these projects. */
  "secrets.sealed": z.object({ providers: z.boolean(), projects: z.array(z.string()) }),
  /**
   * Retention (subject "retention"): finished runs older than `cutoff` were deleted with their log
   * lines (OPS_RUN_TTL or `gimo purge`); their events stay. Audit-only.
   */
  "retention.purged": z.object({
    cutoff: z.string(),
    runs: z.number().int(),
    log_lines: z.number().int(),
  }),
  /** An older file vault moved into the database vault: the names stored, and those it already held. */
  "secrets.imported": z.object({ names: z.array(z.string()), kept: z.array(z.string()) }),
  // Secrets and tokens (subject: the token or credential request id); admins only.
  "token.created": z.object({ name: z.string(), role: z.string() }),
  "token.revoked": z.object({ name: z.string(), role: z.string() }),
  "credential.provided": z.object({ name: z.string() }),
  // Chats (subject: the chat id); readers see them (core/event-visibility.ts).
  "chat.created": z.object({ project_id: z.string(), title: z.string() }),
  "chat.updated": z.object({ title: z.string(), archived: z.boolean() }),
  /** A message was stored in the chat: its id, who wrote it and what kind it is. */
  "chat.message": z.object({ message_id: z.string(), role: z.string(), kind: z.string() }),
  // Integrations (subject: the integration id); readers see them (core/event-visibility.ts).
  "integration.created": z.object({ name: z.string(), kind: z.string() }),
  "integration.updated": z.object({ name: z.string(), fields: z.array(z.string()) }),
  "integration.deleted": z.object({ name: z.string() }),
  /** A discovery ran: whether it reached the service and how many operations it found. */
  "integration.discovered": z.object({
    name: z.string(),
    status: z.enum(["online", "offline"]),
    operations: z.number().int(),
    error: z.string().nullable(),
  }),
  "integration.allowlist_updated": z.object({ name: z.string(), operations: z.array(z.string()) }),
  /** One call through the gateway: who asked, how it went, how long it took — never the payload. */
  "integration.called": z.object({
    name: z.string(),
    operation: z.string(),
    caller: z.enum(["run", "chat", "test"]),
    run_id: z.string().nullable(),
    project_id: z.string().nullable(),
    status: z.enum(callStatuses),
    duration_ms: z.number().int(),
    http_status: z.number().int().nullable(),
  }),
  // Telegram (subject: `telegram:<user id>`); audit-only.
  /** Someone not in TELEGRAM_ALLOWED_USERS wrote to the bot or pressed a button (throttled). */
  "telegram.refused": z.object({
    user_id: z.number(),
    username: z.string().nullable(),
    chat_id: z.number().nullable(),
    update: z.enum(["callback_query", "message", "other"]),
  }),
} satisfies Record<string, z.ZodObject>;

export type EventType = keyof typeof eventPayloads;
export type EventPayload<T extends EventType> = z.input<(typeof eventPayloads)[T]>;

/** Every event type, in catalogue order. */
export const eventTypes = Object.keys(eventPayloads) as EventType[];

/** The events that end a run: its stream ends after one of them. */
export const runTerminalEvents = [
  "run.succeeded",
  "run.failed",
  "run.cancelled",
] as const satisfies readonly EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventPayloads, type);
}

/** Checks one event's `data` against the catalogue: the problem in words, or undefined when it fits. */
export function eventPayloadProblem(type: string, data: unknown): string | undefined {
  if (!isEventType(type)) return `${type} is not in the event catalogue`;
  const parsed = eventPayloads[type].safeParse(data);
  return parsed.success ? undefined : `${type}: ${parsed.error.message}`;
}

/** The catalogue's names as an OpenAPI enum (component `EventType`). */
export const EventTypeName = z
  .enum(eventTypes as [EventType, ...EventType[]])
  .openapi("EventType", { description: "an event type of the catalogue (src/contract/events.ts)" });

/**
 * One Server-Sent Events frame of `/ops/events` and `/ops/runs/{id}/events`, as the OpenAPI
 * document describes the `text/event-stream` answer: `id:` the seq, `event:` the type,
 * `data:` the event as JSON (on a run's stream a `run.logs` event also carries its `lines`).
 */
export const EventStreamFrame = z
  .object({
    id: z.string().openapi({ description: "the event seq: send it back as Last-Event-ID to resume" }),
    event: EventTypeName,
    data: z.string().openapi({ description: "the Event as JSON" }),
  })
  .openapi("EventStreamFrame");
