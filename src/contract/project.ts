import { z } from "@hono/zod-openapi";
import { ProviderConfig } from "../llm/config.ts";
import { IdOf, Line, PageOf, Text, Timestamp } from "./common.ts";
import { Budgets, SandboxLimits } from "./plan.ts";

/** A project: a git repository GIMO works on, with its settings (SPEC §5). */

const BranchName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/-]+(?<![./])$/, "must be a valid git branch name");

const SecretRef = z.string().max(2_000);

/** An egress allowlist entry: a host name, optionally `*.` for its subdomains and `:port`. */
const EgressHost = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$/,
    "must be a host name, *.domain, optionally with :port",
  );

export const Forge = z
  .object({
    kind: z.enum(["github", "gitlab", "gitea"]),
    api_url: z.url().max(2_000).optional(),
    token: SecretRef.optional().openapi({
      description: "A literal token or a ${VAR} reference; never returned",
    }),
  })
  .strict();

/** A project may override the server's planner or executor (same shape as PUT /ops/provider). */
const ProviderRef = ProviderConfig;

const ProjectSettings = {
  name: Line(100),
  remote: Line(100).default("origin"),
  base_branch: BranchName.optional(),
  protected_branches: z.array(BranchName).max(50).default(["main", "master", "dev", "development"]),
  branch_prefix: z
    .string()
    .max(50)
    .regex(/^[A-Za-z0-9._/-]*$/)
    .default("task/"),
  test_command: Text(4_000).optional(),
  require_tests: z.boolean().default(false).openapi({
    description: "refuse to queue a run (422 tests_required) while the project has no test_command",
  }),
  setup_command: Text(4_000).optional(),
  link_template: Text(2_000).optional(),
  push: z.boolean().default(true),
  pull_request: z.enum(["none", "draft"]).default("none"),
  forge: Forge.optional(),
  sandbox: z
    .object({
      network: z.boolean().default(false),
      egress: z.array(EgressHost).max(200).default([]).openapi({
        description:
          "with network on: the hosts commands may reach (`host`, `host:port`, `*.domain`); empty = any public host",
      }),
      limits: SandboxLimits.default({}),
      max_limits: SandboxLimits.default({}).openapi({
        description: "the most a plan's `limits` may ask for (default: the project's limits)",
      }),
    })
    .strict()
    .prefault({}),
  max_concurrent_runs: z.number().int().min(1).max(100).default(2),
  budgets: Budgets.default({}),
  planner: ProviderRef.optional(),
  executor: ProviderRef.optional(),
};

const RepoPath = Text(4_000)
  .min(1)
  .refine((p) => p.startsWith("/"), "repo_path must be an absolute path");
/** A clone URL git can fetch: `https://`, `http://`, `ssh://`, `git://`, `file://`, or scp-like `user@host:path`. */
const RepoUrl = Text(4_000)
  .min(1)
  .refine(
    (u) => /^(https?|ssh|git|file):\/\/[^\s]+$/i.test(u) || /^\w[\w.-]*@\w[\w.-]*:[^\s]+$/.test(u),
    "repo_url must be a git clone URL: https://…, ssh://…, git://…, file://… or user@host:path",
  );

export const ProjectCreate = z
  .object({ ...ProjectSettings, repo_path: RepoPath.optional(), repo_url: RepoUrl.optional() })
  .strict()
  .refine((p) => (p.repo_path === undefined) !== (p.repo_url === undefined), {
    message: "exactly one of repo_path or repo_url is required",
  })
  .openapi("ProjectCreate");
export type ProjectCreate = z.infer<typeof ProjectCreate>;

/**
 * A PATCH names only what it changes: each field optional and without its default (zod 4 applies
 * a default even inside `.optional()`, so a PATCH of one field would reset every other defaulted
 * setting — `protected_branches`, `max_concurrent_runs`, `require_tests` — to its default).
 */
const withoutDefault = (t: z.ZodType): z.ZodType =>
  t instanceof z.ZodDefault || t instanceof z.ZodPrefault ? (t.unwrap() as z.ZodType) : t;

const PatchShape = Object.fromEntries(
  Object.entries(ProjectSettings).map(([k, v]) => [k, withoutDefault(v as z.ZodType).optional()]),
) as { [K in keyof typeof ProjectSettings]: z.ZodOptional<(typeof ProjectSettings)[K]> };

export const ProjectPatch = z.object(PatchShape).strict().openapi("ProjectPatch");
export type ProjectPatch = z.infer<typeof ProjectPatch>;

/** The stored settings of a project (what POST accepted, defaults applied). */
export type ProjectConfig = Omit<ProjectCreate, "base_branch"> & { base_branch: string };

/** A provider as shown to clients: a `${VAR}` reference is shown, a literal key never is. */
export const ProviderView = z
  .object({
    type: z.string(),
    base_url: z.string().nullable(),
    model: z.string(),
    api_key: z.string().nullable(),
    api_key_set: z.boolean(),
    options: z.record(z.string(), z.unknown()),
  })
  .openapi("ProviderView");

export const Project = z
  .object({
    id: IdOf("project"),
    name: z.string(),
    repo_path: z.string().nullable(),
    repo_url: z.string().nullable(),
    remote: z.string(),
    base_branch: z.string(),
    protected_branches: z.array(z.string()),
    branch_prefix: z.string(),
    test_command: z.string().nullable(),
    require_tests: z.boolean(),
    setup_command: z.string().nullable(),
    link_template: z.string().nullable(),
    push: z.boolean(),
    pull_request: z.enum(["none", "draft"]),
    forge: z
      .object({
        kind: z.string(),
        api_url: z.string().nullable(),
        token: z.string().nullable().openapi({ description: "the ${VAR} reference, when one was given" }),
        token_set: z.boolean(),
      })
      .nullable(),
    sandbox: z.object({
      network: z.boolean(),
      egress: z.array(z.string()).optional(),
      limits: SandboxLimits.optional(),
      max_limits: SandboxLimits.optional(),
    }),
    planner: ProviderView.nullable(),
    executor: ProviderView.nullable(),
    max_concurrent_runs: z.number().int(),
    budgets: Budgets,
    is_default: z.boolean(),
    archived_at: Timestamp.nullable().openapi({
      description: "when the project was archived (no new tasks, chats or runs); null while open",
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Project");
export type Project = z.infer<typeof Project>;

export const ProjectPage = PageOf(Project, "ProjectPage");

export const ProjectDeleted = z
  .object({ id: IdOf("project"), deleted: z.literal(true) })
  .openapi("ProjectDeleted");
