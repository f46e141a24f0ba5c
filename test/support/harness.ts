import { randomBytes } from "node:crypto";
import { type Config, loadConfig } from "../../src/config.ts";
import { eventPayloadProblem } from "../../src/contract/events.ts";
import type { Role } from "../../src/core/roles.ts";
import { createGimo, type Gimo, type GimoOptions, listen } from "../../src/gimo.ts";
import { createLogger } from "../../src/log.ts";
import type { StorageKind } from "../../src/store/database.ts";
import type { Write } from "../../src/store/store.ts";
import { createTestDatabase, type TestDatabase } from "./databases.ts";
import { createTestRepo, type TestRepo } from "./repo.ts";

/**
 * A real GIMO for a test: its own database, a real git repository registered as the default
 * project, listening on a free loopback port, one environment token per role. Requests go over
 * real HTTP. Everything it logs is kept in `logs` so tests can look for leaks.
 */
export interface TestGimo {
  kind: StorageKind;
  url: string;
  tokens: Record<Role, string>;
  gimo: Gimo;
  db: TestDatabase;
  repo: TestRepo;
  logs: string[];
  /** Every response this harness received: status line, headers and body. */
  responses: string[];
  projectId: string;
  request(method: string, path: string, opts?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  role?: Role | null;
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  text: string;
}

export interface StartOptions {
  /** The environment `${VAR}` secrets resolve from (default: none — not the test process's). */
  env?: Record<string, string>;
  /** Starts the embedded runner with this handler. */
  runHandler?: GimoOptions["runHandler"];
  /** Event types outside the catalogue this test writes on purpose (see emitUncatalogued). */
  uncatalogued?: readonly string[];
}

/** Appends an event that is not in the catalogue (contract/events.ts): for tests of the log itself. */
export function emitUncatalogued(
  w: Write,
  type: string,
  subject: string,
  data: Record<string, unknown>,
): void {
  (w.emit as (type: string, subject: string, data: Record<string, unknown>) => void)(type, subject, data);
}

/**
 * Every event in the log fits the catalogue (contract/events.ts): its type is listed and its data
 * parses with the type's schema. Run when a test's GIMO closes, so every test that writes through
 * the app — TypeScript and the PostgreSQL functions alike — checks the events it caused.
 */
async function assertEventsCatalogued(gimo: Gimo, uncatalogued: readonly string[]): Promise<void> {
  const rows = await gimo.services.ctx.store.db
    .selectFrom("events")
    .select(["seq", "type", "data"])
    .execute();
  const problems = rows
    .filter((row) => !uncatalogued.includes(row.type))
    .map((row) => {
      const problem = eventPayloadProblem(row.type, JSON.parse(row.data));
      return problem && `event ${row.seq}: ${problem}`;
    })
    .filter((p) => p !== undefined);
  if (problems.length > 0)
    throw new Error(`events outside the catalogue:\n${problems.slice(0, 10).join("\n")}`);
}

export async function startGimo(
  kind: StorageKind,
  overrides: Partial<Config> = {},
  opts: StartOptions = {},
): Promise<TestGimo> {
  const db = await createTestDatabase(kind);
  const repo = await createTestRepo();
  const tokens = {
    admin: `adm_${randomBytes(12).toString("hex")}`,
    operator: `opr_${randomBytes(12).toString("hex")}`,
    actions: `act_${randomBytes(12).toString("hex")}`,
    runner: `run_${randomBytes(12).toString("hex")}`,
  } satisfies Record<Role, string>;
  const config = loadConfig(
    {
      GIMO_DATA_DIR: db.dataDir,
      DATABASE_URL: db.databaseUrl,
      GIMO_MASTER_KEY: db.masterKey,
      ORCH_ADMIN_TOKEN: tokens.admin,
      ORCH_OPERATOR_TOKEN: tokens.operator,
      ORCH_ACTIONS_TOKEN: tokens.actions,
      ORCH_RUNNER_TOKEN: tokens.runner,
      GIMO_RATE_LIMIT_RPS: "0",
      GIMO_EMBEDDED_RUNNERS: "0",
    },
    { port: 0, host: "127.0.0.1", ...overrides },
  );
  const logs: string[] = [];
  const responses: string[] = [];
  const logger = createLogger("debug", (line) => logs.push(line));
  const gimo = await createGimo(opts.runHandler ? { ...config, embeddedRunners: 1 } : config, {
    logger,
    repoPath: repo.path,
    services: { env: opts.env ?? {} },
    ...(opts.runHandler ? { runHandler: opts.runHandler } : {}),
  });
  const server = await listen(gimo);
  const projectId = (await gimo.services.projects.list(1)).items[0]?.id ?? "";

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    const role = opts.role === undefined ? "admin" : opts.role;
    const token = opts.token ?? (role ? tokens[role] : undefined);
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(`${server.url}${path}`, { method, headers, body });
    const text = await res.text();
    responses.push(
      `${res.status} ${method} ${path}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${text}`,
    );
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed, text };
  };

  return {
    kind,
    url: server.url,
    tokens,
    gimo,
    db,
    repo,
    logs,
    responses,
    projectId,
    request,
    close: async () => {
      await server.close();
      let uncatalogued: unknown;
      await assertEventsCatalogued(gimo, opts.uncatalogued ?? []).catch((error: unknown) => {
        uncatalogued = error;
      });
      await gimo.close();
      await db.drop();
      await repo.remove();
      if (uncatalogued) throw uncatalogued;
    },
  };
}

/** A valid plan, for drafts written by hand. */
export function samplePlan(title = "Add input validation") {
  return {
    title,
    summary: "Reject negative quantities.",
    steps: [
      { id: "s1", kind: "agent" as const, title: "Add validation", instructions: "Validate quantity >= 0" },
      { id: "s2", kind: "test" as const, title: "Unit tests" },
    ],
    acceptance: ["Tests green"],
    risk: "low" as const,
  };
}
