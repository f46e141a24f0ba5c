import { z } from "@hono/zod-openapi";
import { terminalRunStatuses } from "../core/run-machine.ts";
import { ProviderConfig } from "../llm/config.ts";
import { Approved } from "./approved.ts";
import { IdOf, Line, Text, Timestamp } from "./common.ts";
import { Project } from "./project.ts";
import { Run } from "./run.ts";

/** The runner protocol (SPEC §6): bodies of the calls a runner makes, fenced by attempt. */

export const RunnerRegister = z
  .object({
    name: Line(100),
    labels: z.array(Line(50)).max(20).optional(),
    capacity: z.number().int().min(1).max(64).optional(),
    uses_executor: z.boolean().optional().openapi({
      description:
        "it runs agent steps with the server's executor model (the built-in executor): while a project has no executor it is given only plans without agent steps",
    }),
  })
  .strict()
  .openapi("RunnerRegister");

export const RunnerRegistered = z
  .object({ runner_id: IdOf("runner"), lease_seconds: z.number().int() })
  .openapi("RunnerRegistered");

export const HeartbeatBody = z.object({ stopping: z.boolean().optional() }).strict().openapi("HeartbeatBody");

export const ClaimBody = z
  .object({
    runner_id: IdOf("runner"),
    wait_seconds: z
      .number()
      .int()
      .min(0)
      .max(60)
      .optional()
      .openapi({ description: "long-poll up to this long" }),
  })
  .strict()
  .openapi("ClaimBody");

export const ClaimedRun = z
  .object({
    run: Run,
    approved: Approved,
    project: Project,
    lease_seconds: z.number().int(),
    executor: ProviderConfig.nullable().openapi({
      description: "the executor model; keys as ${VAR} references",
    }),
    trace_context: z.string().max(55).optional().openapi({
      description:
        "when the server exports OpenTelemetry traces: the claim span's W3C traceparent, for the runner's spans to join the run's trace",
    }),
  })
  .openapi("ClaimedRun");

const FenceFields = {
  runner_id: IdOf("runner"),
  attempt: z
    .number()
    .int()
    .min(1)
    .max(2_147_483_647) // the column is a 32-bit integer
    .openapi({ description: "the attempt this runner claimed (fencing token)" }),
};

export const LeaseBody = z.object(FenceFields).strict().openapi("LeaseBody");
export const LeaseResult = z
  .object({ cancel_requested: z.boolean(), lease_expires_at: Timestamp.nullable() })
  .openapi("LeaseResult");

export const LogLine = z
  .object({
    ts: z.iso.datetime().optional(),
    level: z.enum(["debug", "info", "warn", "error"]).default("info"),
    msg: Text(16_000),
    step_id: Text(40).optional(),
  })
  .strict();

export const LogsBody = z
  .object({ ...FenceFields, lines: z.array(LogLine).max(1_000) })
  .strict()
  .openapi("LogsBody");

export const StepsBody = z
  .object({
    ...FenceFields,
    steps: z
      .array(
        z
          .object({
            id: z.string().max(40),
            status: z.enum(["pending", "running", "succeeded", "failed", "skipped"]),
            detail: Text(4_000).optional(),
            attempts: z.number().int().min(0).max(1_000).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(100),
  })
  .strict()
  .openapi("StepsBody");

export const CompleteBody = z
  .object({
    ...FenceFields,
    status: z.enum(terminalRunStatuses),
    result: z.record(z.string(), z.unknown()).optional().openapi({
      description:
        "the run's result (RunResult); refused (400) when link or pull_request.url is not an http(s) URL or branch is not the run's own task branch",
    }),
    error: z
      .object({
        code: z.string().min(1).max(100),
        message: Text(8_000),
        details: z.unknown().optional(),
        retryable: z
          .boolean()
          .optional()
          .openapi({ description: "the infrastructure failed, not the work: requeue" }),
        retry_after_seconds: z.number().min(0).max(86_400).optional(),
      })
      .strict()
      .optional(),
    claim_next: z.boolean().optional().openapi({
      description:
        "also claim the next claimable run, in the same transaction; it comes back as `next` (null when there is none)",
    }),
  })
  .strict()
  .openapi("CompleteBody");

export const RunLogLine = z
  .object({
    seq: z.number().int(),
    ts: Timestamp,
    level: z.string(),
    msg: z.string(),
    step_id: z.string().nullable(),
    correlation_id: z.string().nullable(),
    attempt: z.number().int(),
  })
  .openapi("RunLogLine");

export const RunLogPage = z
  .object({ items: z.array(RunLogLine), next_cursor: z.string().nullable() })
  .openapi("RunLogPage");

export const RunnerView = z
  .object({
    id: z.string(),
    name: z.string(),
    labels: z.array(z.string()),
    capacity: z.number().int(),
    uses_executor: z.boolean(),
    status: z.enum(["online", "offline"]),
    registered_at: Timestamp,
    last_heartbeat_at: Timestamp,
    current_runs: z.array(z.string()),
  })
  .openapi("Runner");

export const RunnerList = z.object({ items: z.array(RunnerView) }).openapi("RunnerList");

export const RunnerStatus = z
  .object({ online: z.number().int(), offline: z.number().int(), runners: z.array(RunnerView) })
  .openapi("RunnerStatus");

export const Metrics = z
  .object({
    runs: z.object({
      queued: z.number().int(),
      running: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    }),
    runners: z.object({ online: z.number().int(), offline: z.number().int() }),
    fail_rate_last_20: z.number(),
    oldest_queued_age_seconds: z.number(),
    drafts_awaiting_approval: z.number().int(),
  })
  .openapi("Metrics");

export const CompleteResult = z
  .object({
    status: z.string(),
    next: ClaimedRun.nullable()
      .optional()
      .openapi({ description: "with `claim_next`: the run this runner now holds, or null" }),
  })
  .openapi("CompleteResult");

// The runner protocol's types, inferred from the schemas above (never written twice).

/** A run claimed by a runner: its run, approved plan, project, lease and executor. */
export type ClaimedRun = z.infer<typeof ClaimedRun>;
/** One log line a runner sends. */
export type LogLineInput = z.infer<typeof LogLine>;
/** One step update a runner sends. */
export type StepUpdate = z.infer<typeof StepsBody>["steps"][number];
/** How a runner ends an attempt: the body of `complete` without its fence. */
export type Completion = Pick<z.infer<typeof CompleteBody>, "status" | "result" | "error">;
/** A runner as GET /ops/runners shows it. */
export type RunnerView = z.infer<typeof RunnerView>;
type FenceBody = z.infer<typeof LeaseBody>;
/** The fence every runner call carries: the run, the attempt it claimed, the runner. */
export interface Fence {
  runId: string;
  attempt: FenceBody["attempt"];
  runnerId: FenceBody["runner_id"];
}
