import { z } from "@hono/zod-openapi";
import { runStatuses } from "../core/run-machine.ts";
import { Cursor, IdOf, Limit, PageOf, Text, Timestamp } from "./common.ts";

export const RunStatus = z.enum(runStatuses).openapi("RunStatus");

export const RunStep = z
  .object({
    id: z.string(),
    title: z.string(),
    kind: z.string(),
    status: z.enum(["pending", "running", "succeeded", "failed", "skipped"]),
    attempts: z.number().int(),
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    detail: z.string().nullable(),
  })
  .openapi("RunStep");

export const FileChange = z.object({
  path: z.string(),
  status: z.string(),
  insertions: z.number().int(),
  deletions: z.number().int(),
});

export const AcceptanceVerdict = z
  .object({
    criterion: z.string(),
    met: z.boolean(),
    evidence: z.string(),
  })
  .openapi("AcceptanceVerdict");
export type AcceptanceVerdict = z.infer<typeof AcceptanceVerdict>;

/** How a run's work was checked after its steps: the tests, then the acceptance review. */
export const Verification = z
  .object({
    tests: z
      .enum(["passed", "failed", "none"])
      .openapi({ description: "none: the project has no test_command" }),
    acceptance: z.array(AcceptanceVerdict).openapi({
      description:
        "the last review's verdict on each of the plan's acceptance criteria (empty when not judged)",
    }),
    judged_by: z.string().nullable().openapi({ description: "the model that judged the criteria" }),
    prompt_hash: z.string().nullable().openapi({ description: "hash of the review prompts used" }),
    reviews: z.number().int().openapi({ description: "how many acceptance reviews ran (one per fix round)" }),
    reasons: z.array(z.string()).openapi({ description: "why the run is not verified (empty when it is)" }),
  })
  .openapi("Verification");
export type Verification = z.infer<typeof Verification>;

export const RunResult = z
  .object({
    branch: z.string(),
    base_branch: z.string(),
    base_sha: z.string().nullable(),
    head_sha: z.string().nullable(),
    commits: z.array(z.string()),
    pushed: z.boolean(),
    link: z.string().nullable(),
    file_changes: z.array(FileChange),
    tests: z
      .object({
        command: z.string(),
        exit_code: z.number().int().nullable(),
        passed: z.number().int().nullable(),
        failed: z.number().int().nullable(),
        output_tail: z.string(),
      })
      .nullable(),
    usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() }),
    pull_request: z.object({ url: z.string(), number: z.number().int() }),
    verified: z.boolean().openapi({
      description:
        "true only when the tests ran and passed and every acceptance criterion was judged met; a run of a project without test_command, or whose criteria no model could judge, succeeds unverified",
    }),
    verification: Verification,
  })
  .partial()
  .openapi("RunResult", {
    description:
      "as the runner reported it: link and pull_request.url are http(s) URLs, branch is the run's own task branch (<branch_prefix><task id>)",
  });

export const RunError = z
  .object({ code: z.string(), message: z.string(), details: z.unknown().optional() })
  .openapi("RunError");

export const Run = z
  .object({
    id: IdOf("run"),
    approved_id: IdOf("approved"),
    task_id: IdOf("task"),
    project_id: IdOf("project"),
    status: RunStatus,
    priority: z.number().int(),
    attempt: z.number().int().openapi({ description: "claims so far; the fencing token of runner calls" }),
    max_attempts: z.number().int(),
    run_after: Timestamp,
    depends_on: z.array(IdOf("run")),
    blocked_by: z.array(z.object({ run_id: z.string(), status: RunStatus })).openapi({
      description: "while queued: the dependencies that have not succeeded yet (why it is not claimable)",
    }),
    cancel_requested: z.boolean(),
    runner_id: z.string().nullable(),
    lease_expires_at: Timestamp.nullable(),
    steps: z.array(RunStep),
    result: RunResult.nullable(),
    error: RunError.nullable(),
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
  })
  .openapi("Run");
export type Run = z.infer<typeof Run>;

export const RunPage = PageOf(Run, "RunPage");

/** `approved_id` is checked by the service, not the schema, so a draft id gets its own 403. */
export const RunCreate = z
  .object({
    approved_id: z.string().min(1).max(100),
    depends_on: z.array(IdOf("run")).max(50).optional(),
    priority: z.number().int().min(-1000).max(1000).optional(),
    allow_parallel: z.boolean().optional().openapi({
      description: "queue it even though the plan already has a queued or running run (else 409 run_active)",
    }),
  })
  .strict()
  .openapi("RunCreate");
export type RunCreate = z.infer<typeof RunCreate>;

export const RunQuery = z.object({
  status: RunStatus.optional(),
  task: IdOf("task").optional(),
  project: IdOf("project").optional(),
  limit: Limit,
  cursor: Cursor,
});

export const RequeueBody = z
  .object({
    backoff_seconds: z.number().int().min(0).max(86_400).optional(),
    reason: Text(2_000).optional(),
  })
  .strict()
  .openapi("RequeueBody");

export const CancelBody = z
  .object({ reason: Text(2_000).optional() })
  .strict()
  .openapi("CancelBody");

export const RunDiff = z
  .object({
    run_id: IdOf("run"),
    base_sha: z.string(),
    head_sha: z.string(),
    diff: z.string().openapi({ description: "unified diff of base_sha..head_sha, cut at max_bytes" }),
    truncated: z.boolean(),
    max_bytes: z.number().int(),
  })
  .openapi("RunDiff");
export type RunDiff = z.infer<typeof RunDiff>;
