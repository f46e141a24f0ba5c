import { IntegrationClient } from "../integrations/client.ts";
import type { Resolver } from "../integrations/net.ts";
import type { ProviderDeps } from "../llm/providers.ts";
import { createSandbox } from "../runner/sandbox/sandbox.ts";
import type { Env } from "../secrets/references.ts";
import { queueStoreFor } from "../store/queue-for.ts";
import type { QueueStore } from "../store/queue-store.ts";
import { AuditService } from "./audit.ts";
import { ChatApprovals } from "./chat-approval.ts";
import { ChatConversation } from "./chat-conversation.ts";
import { ChatService } from "./chats.ts";
import type { AppContext } from "./context.ts";
import { CredentialService, secretStores } from "./credentials.ts";
import { DraftService } from "./drafts.ts";
import { IdempotencyService } from "./idempotency.ts";
import { IntegrationGateway } from "./integration-gateway.ts";
import { IntegrationService } from "./integrations.ts";
import { MetricsService } from "./metrics.ts";
import { PanicService } from "./panic.ts";
import { PlanDocService } from "./plan-docs.ts";
import { PlanningService } from "./planning.ts";
import { ProjectService } from "./projects.ts";
import { PrometheusMetrics } from "./prometheus.ts";
import { ProviderService } from "./providers.ts";
import { QueueService } from "./queue.ts";
import { RetentionService } from "./retention.ts";
import { RunReportService } from "./run-reports.ts";
import { RunnerService } from "./runners.ts";
import { RunService } from "./runs.ts";
import { StatusService, VERSION } from "./status.ts";
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
  /** The queue behind its port (src/store/queue-store.ts). */
  queueStore: QueueStore;
  reports: RunReportService;
  runners: RunnerService;
  metrics: MetricsService;
  prometheus: PrometheusMetrics;
  providers: ProviderService;
  credentials: CredentialService;
  planning: PlanningService;
  chats: ChatService;
  retention: RetentionService;
  chatApprovals: ChatApprovals;
  conversation: ChatConversation;
  integrations: IntegrationService;
  /** The one way an integration is called (integration-gateway.ts). */
  gateway: IntegrationGateway;
}

export interface ServiceOptions {
  /** Where `${VAR}` references resolve first (default: the process environment). */
  env?: Env;
  /** Test seams for the provider adapters (fetch, sleep). */
  providerDeps?: ProviderDeps;
  /** How integration hosts are resolved (default: the system's resolver). */
  resolver?: Resolver;
}

export function createServices(ctx: AppContext, options: ServiceOptions = {}): Services {
  const env = options.env ?? process.env;
  const stores = secretStores(ctx);
  const { vault } = stores;
  const projects = new ProjectService(ctx, (value) => vault.sealValue(value));
  const drafts = new DraftService(ctx, projects);
  const providers = new ProviderService(ctx, vault, env, options.providerDeps);
  const runners = new RunnerService(ctx);
  const status = new StatusService(ctx, runners);
  const prometheus = new PrometheusMetrics(status);
  const queueStore = queueStoreFor(ctx.store, {
    clock: ctx.clock,
    leaseSeconds: ctx.config.leaseSeconds,
    retryBaseSeconds: ctx.config.retryBaseSeconds,
    executorConfig: async (override, tx) => override ?? (await providers.stored(tx)).executor ?? null,
    onBatch: (size) => prometheus.completionBatch.observe(size),
  });
  const queue = new QueueService(ctx, prometheus, queueStore);
  const chats = new ChatService(ctx, projects);
  const chatApprovals = new ChatApprovals(ctx, chats, drafts);
  const { config } = ctx;
  const integrationClient = new IntegrationClient({
    // MCP servers spoken to over stdio run in the same sandbox as commands, GIMO's data dir hidden.
    sandbox: createSandbox(config.sandbox, {
      hide: [config.dataDir],
      sandboxId: config.sandboxUid,
      ...(config.sandboxCgroup ? { cgroup: config.sandboxCgroup } : {}),
    }),
    version: VERSION,
    ...(options.resolver ? { resolver: options.resolver } : {}),
  });
  const integrations = new IntegrationService(ctx, vault, env, integrationClient);
  const services: Services = {
    prometheus,
    ctx,
    projects,
    plans: new PlanDocService(ctx, projects),
    tasks: new TaskService(ctx),
    drafts,
    providers,
    credentials: new CredentialService(ctx, providers, stores, env),
    planning: new PlanningService(ctx, projects, drafts, providers),
    runs: new RunService(ctx),
    tokens: new TokenService(ctx),
    audit: new AuditService(ctx),
    panic: new PanicService(ctx),
    status,
    idempotency: new IdempotencyService(ctx),
    queue,
    reports: new RunReportService(ctx, prometheus, queue, queueStore),
    queueStore,
    runners,
    metrics: new MetricsService(ctx, status, runners),
    chats,
    retention: new RetentionService(ctx),
    chatApprovals,
    integrations,
    gateway: new IntegrationGateway(ctx, integrations),
    // set below: the conversation calls the other services
    conversation: undefined as unknown as ChatConversation,
  };
  services.conversation = new ChatConversation(services, chatApprovals);
  return services;
}
