import { AuditService } from "./audit.ts";
import type { AppContext } from "./context.ts";
import { DraftService } from "./drafts.ts";
import { IdempotencyService } from "./idempotency.ts";
import { MetricsService } from "./metrics.ts";
import { PanicService } from "./panic.ts";
import { PlanDocService } from "./plan-docs.ts";
import { ProjectService } from "./projects.ts";
import { PrometheusMetrics } from "./prometheus.ts";
import { QueueService } from "./queue.ts";
import { RunReportService } from "./run-reports.ts";
import { RunnerService } from "./runners.ts";
import { RunService } from "./runs.ts";
import { StatusService } from "./status.ts";
import { TaskService } from "./tasks.ts";
import { TokenService } from "./tokens.ts";

/** The application core: every operator (HTTP, MCP, CLI, Telegram, UI) calls these and only these. */
export interface Services {
  ctx: AppContext;
  projects: ProjectService;
  plans: PlanDocService;
  tasks: TaskService;
  drafts: DraftService;
  runs: RunService;
  tokens: TokenService;
  audit: AuditService;
  panic: PanicService;
  status: StatusService;
  idempotency: IdempotencyService;
  queue: QueueService;
  reports: RunReportService;
  runners: RunnerService;
  metrics: MetricsService;
  prometheus: PrometheusMetrics;
}

export function createServices(ctx: AppContext): Services {
  const projects = new ProjectService(ctx);
  const runners = new RunnerService(ctx);
  const status = new StatusService(ctx, runners);
  const prometheus = new PrometheusMetrics(status);
  return {
    prometheus,
    ctx,
    projects,
    plans: new PlanDocService(ctx, projects),
    tasks: new TaskService(ctx),
    drafts: new DraftService(ctx, projects),
    runs: new RunService(ctx),
    tokens: new TokenService(ctx),
    audit: new AuditService(ctx),
    panic: new PanicService(ctx),
    status,
    idempotency: new IdempotencyService(ctx),
    queue: new QueueService(ctx, prometheus),
    reports: new RunReportService(ctx, prometheus),
    runners,
    metrics: new MetricsService(ctx, status, runners),
  };
}
