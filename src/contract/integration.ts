import { z } from "@hono/zod-openapi";
import { IdOf, Line, Text, Timestamp } from "./common.ts";

/**
 * Integrations (SPEC §7.6): external OpenAPI services and MCP servers whose allow-listed
 * operations the executor agent and the chat planner may call, through one gateway.
 */

export const integrationKinds = ["openapi", "mcp"] as const;

export const IntegrationName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,29}$/, "lower-case letters, digits, _ and -, starting with a letter, ≤ 30")
  .openapi({ example: "github" });

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, "must be an HTTP header name");
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/, "must be an environment variable name");
/** A header or environment value: `${VAR}` references, or a literal (sealed at rest). One line. */
const SecretValue = z
  .string()
  .min(1)
  .max(8_000)
  .refine((s) => !/[\r\n\0]/.test(s), "must be one line");

const HttpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .max(2_000)
  .refine((s) => {
    const u = URL.parse(s);
    return u === null || (u.username === "" && u.password === "");
  }, "must not hold credentials: put them in headers as ${VAR} references");

export const StdioServer = z
  .object({
    command: Line(1_000).openapi({ description: "the program, run inside GIMO's sandbox" }),
    args: z.array(Text(4_000)).max(100).default([]),
    env: z
      .record(EnvName, SecretValue)
      .default({})
      .openapi({ description: "the server's environment: ${VAR} references or literals (sealed at rest)" }),
    network: z.boolean().default(false).openapi({
      description:
        "whether the server may reach the network (through GIMO's egress proxy: public hosts only)",
    }),
  })
  .strict()
  .openapi("IntegrationStdio");

const Settings = {
  base_url: HttpUrl.optional().openapi({
    description:
      "openapi: the service (its document is looked for at the usual paths) or its OpenAPI document; mcp: the Streamable HTTP endpoint",
  }),
  stdio: StdioServer.optional().openapi({ description: "mcp only: a server spoken to over stdio" }),
  headers: z
    .record(HeaderName, SecretValue)
    .default({})
    .refine((h) => Object.keys(h).length <= 50, "at most 50 headers")
    .openapi({ description: "sent with every request: ${VAR} references or literals (sealed at rest)" }),
  allow_offline: z.boolean().default(false).openapi({
    description: "register even when discovery fails now (the integration shows offline until discovered)",
  }),
  allow_private: z.boolean().default(false).openapi({
    description:
      "allow private and loopback addresses (10/8, 172.16/12, 192.168/16, 127/8, ::1, fc00::/7); link-local and metadata addresses are never allowed",
  }),
  timeout_ms: z.number().int().min(100).max(300_000).default(30_000),
  max_response_bytes: z.number().int().min(1_024).max(10_485_760).default(1_048_576),
  description: Text(1_000).optional(),
};

function oneEndpoint(
  value: { kind?: string; base_url?: string | undefined; stdio?: unknown },
  ctx: z.core.$RefinementCtx,
) {
  const both = value.base_url !== undefined && value.stdio !== undefined;
  const neither = value.base_url === undefined && value.stdio === undefined;
  if (both || neither)
    ctx.addIssue({ code: "custom", message: "give exactly one of base_url and stdio", path: ["base_url"] });
  if (value.stdio !== undefined && value.kind === "openapi")
    ctx.addIssue({ code: "custom", message: "stdio is for mcp integrations", path: ["stdio"] });
}

export const IntegrationInput = z
  .object({ name: IntegrationName, kind: z.enum(integrationKinds), ...Settings })
  .strict()
  .superRefine(oneEndpoint)
  .openapi("IntegrationInput");
export type IntegrationInput = z.infer<typeof IntegrationInput>;
/** What is stored of an integration besides its name and kind. */
export type IntegrationConfig = Omit<IntegrationInput, "name" | "kind">;

export const IntegrationPatch = z
  .object({
    name: IntegrationName.optional(),
    base_url: Settings.base_url.nullable(),
    stdio: Settings.stdio.nullable(),
    headers: z.record(HeaderName, SecretValue).optional(),
    allow_offline: z.boolean().optional(),
    allow_private: z.boolean().optional(),
    timeout_ms: z.number().int().min(100).max(300_000).optional(),
    max_response_bytes: z.number().int().min(1_024).max(10_485_760).optional(),
    description: Text(1_000).nullable().optional(),
  })
  .strict()
  .openapi("IntegrationPatch", {
    description: "a header or env value sent back as [redacted] keeps the stored secret",
  });
export type IntegrationPatch = z.infer<typeof IntegrationPatch>;

/** One discovered operation. */
export const IntegrationOperation = z
  .object({
    name: z.string(),
    description: z.string(),
    input_schema: z.record(z.string(), z.unknown()),
    method: z.string().optional().openapi({ description: "openapi: the HTTP method" }),
    path: z.string().optional().openapi({ description: "openapi: the path template" }),
    allowed: z
      .union([z.literal("everywhere"), z.array(z.string())])
      .nullable()
      .openapi({ description: "everywhere, the projects it is allowed in, or null (not allowed)" }),
  })
  .openapi("IntegrationOperation");

export const AllowEntry = z
  .object({
    operation: z.string().min(1).max(200),
    projects: z
      .array(IdOf("project"))
      .max(100)
      .optional()
      .openapi({ description: "only in these projects; absent: in every project" }),
  })
  .strict();

export const AllowList = z
  .object({ operations: z.array(AllowEntry).max(500) })
  .strict()
  .openapi("IntegrationAllowList", { description: "replaces the allow-list" });
export type AllowList = z.infer<typeof AllowList>;

export const Integration = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(integrationKinds),
    base_url: z.string().nullable(),
    stdio: z
      .object({
        command: z.string(),
        args: z.array(z.string()),
        env: z.record(z.string(), z.string()),
        network: z.boolean(),
      })
      .nullable(),
    headers: z
      .record(z.string(), z.string())
      .openapi({ description: "values as their ${VAR} reference, or [redacted]" }),
    allow_offline: z.boolean(),
    allow_private: z.boolean(),
    timeout_ms: z.number().int(),
    max_response_bytes: z.number().int(),
    description: z.string().nullable(),
    status: z.enum(["online", "offline"]),
    discovery_error: z.string().nullable(),
    discovered_at: Timestamp.nullable(),
    operations: z.array(IntegrationOperation),
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Integration");
export type IntegrationView = z.infer<typeof Integration>;

export const IntegrationList = z
  .object({ items: z.array(Integration), next_cursor: z.string().nullable() })
  .openapi("IntegrationList");

export const IntegrationTestCall = z
  .object({
    operation: z.string().min(1).max(200),
    arguments: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .openapi("IntegrationTestCall");

export const callStatuses = [
  "ok",
  "error",
  "refused",
  "invalid_arguments",
  "timeout",
  "too_large",
  "unavailable",
] as const;
export type CallStatus = (typeof callStatuses)[number];

export const CallOutcome = z
  .object({
    ok: z.boolean(),
    status: z.enum(callStatuses).openapi({
      description:
        "ok; error (the service answered an error); refused (not allow-listed, not discovered, an address the guard refuses, panic mode); invalid_arguments; timeout; too_large; unavailable (cannot connect, a secret is missing)",
    }),
    integration: z.string(),
    operation: z.string(),
    duration_ms: z.number().int(),
    http_status: z.number().int().optional(),
    content: z.string().openapi({ description: "the answer as text for a model (secrets redacted, capped)" }),
  })
  .openapi("IntegrationCallOutcome");
export type CallOutcome = z.infer<typeof CallOutcome>;

/** An allow-listed operation as a model tool. */
export const IntegrationTool = z
  .object({
    name: z.string(),
    description: z.string(),
    parameters: z.record(z.string(), z.unknown()),
    integration: z.string(),
    operation: z.string(),
  })
  .openapi("IntegrationTool");
export type IntegrationTool = z.infer<typeof IntegrationTool>;

export const RunIntegrationTools = z
  .object({ tools: z.array(IntegrationTool) })
  .openapi("RunIntegrationTools");

export const IntegrationCallBody = z
  .object({
    runner_id: IdOf("runner"),
    attempt: z.number().int().min(1).max(2_147_483_647),
    arguments: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .openapi("IntegrationCallBody");
