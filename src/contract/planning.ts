import { z } from "@hono/zod-openapi";
import { IdOf, Line, Text } from "./common.ts";
import { Draft } from "./draft.ts";

/** Bodies of the planner's routes (SPEC §3): generate, tasks, revise, propose; credentials. */

export const GenerateBody = z
  .object({
    prompt: Text(20_000).min(1),
    project: IdOf("project").optional(),
    context: Text(20_000).optional().openapi({ description: "extra context for the planner" }),
  })
  .strict()
  .openapi("GenerateBody");

export const TaskCreate = z
  .object({ prompt: Text(20_000).min(1), project: IdOf("project").optional() })
  .strict()
  .openapi("TaskCreate");

export const ReviseBody = z
  .object({ feedback: Text(20_000).min(1) })
  .strict()
  .openapi("ReviseBody");

export const ProposeBody = z
  .object({ count: z.number().int().min(1).max(10), project: IdOf("project").optional() })
  .strict()
  .openapi("ProposeBody");

export const ProposeResult = z.object({ drafts: z.array(Draft) }).openapi("ProposeResult");

export const CredentialRequest = z
  .object({
    id: z.string().openapi({ example: "REQ-001" }),
    name: z.string().openapi({ example: "OPENAI_API_KEY" }),
    status: z.enum(["WAITING", "PROVIDED"]),
    source: z.enum(["env", "vault"]).nullable(),
  })
  .openapi("CredentialRequest");

export const CredentialList = z.object({ items: z.array(CredentialRequest) }).openapi("CredentialList");

export const CredentialProvide = z
  .object({ value: z.string().min(1).max(10_000) })
  .strict()
  .openapi("CredentialProvide");

export const CredentialId = Line(20).regex(/^REQ-\d{3,}$/, "a credential request id, REQ-001");
