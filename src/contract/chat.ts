import { z } from "@hono/zod-openapi";
import { Cursor, IdOf, Limit, Line, PageOf, Text, Timestamp } from "./common.ts";

/** Chats (SPEC §7.4): a conversation on a project with the planner, where plans are proposed and confirmed. */

export const Chat = z
  .object({
    id: IdOf("chat"),
    project_id: IdOf("project"),
    title: z.string(),
    archived: z.boolean(),
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Chat");
export type Chat = z.infer<typeof Chat>;

export const ChatPage = PageOf(Chat, "ChatPage");

export const ChatCreate = z
  .object({
    project: IdOf("project").optional().openapi({ description: "the default project when absent" }),
    title: Line(200).optional(),
  })
  .strict()
  .openapi("ChatCreate");
export type ChatCreate = z.infer<typeof ChatCreate>;

export const ChatPatch = z
  .object({ title: Line(200).optional(), archived: z.boolean().optional() })
  .strict()
  .refine((p) => p.title !== undefined || p.archived !== undefined, "give title and/or archived")
  .openapi("ChatPatch");
export type ChatPatch = z.infer<typeof ChatPatch>;

export const ChatQuery = z.object({
  project: IdOf("project").optional(),
  archived: z.enum(["true", "false", "all"]).default("false").openapi({ description: "default false" }),
  limit: Limit,
  cursor: Cursor,
});

export const messageRoles = ["user", "assistant", "system"] as const;
/**
 * What a message is: `text` (a person or the planner talking), `plan` (a proposed plan awaiting
 * confirm or cancel), `answer` (the outcome of a confirm or cancel), `progress` (a run's step or
 * test), `result` (a run's end with its branch and link), `error` (something failed, and what to do).
 */
export const messageKinds = ["text", "plan", "answer", "progress", "result", "error"] as const;

export const ChatMessage = z
  .object({
    id: IdOf("message"),
    chat_id: IdOf("chat"),
    role: z.enum(messageRoles),
    kind: z.enum(messageKinds),
    text: z.string(),
    data: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "kind plan: {draft_id, task_id, rev, plan}; answer: {outcome, draft_id?, run_id?}; progress/result/error: {run_id, …}",
    }),
    author: z.string(),
    created_at: Timestamp,
  })
  .openapi("ChatMessage");
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatMessagePage = PageOf(ChatMessage, "ChatMessagePage");

export const MessageQuery = z.object({
  order: z.enum(["asc", "desc"]).default("asc").openapi({ description: "asc: oldest first (default)" }),
  limit: Limit,
  cursor: Cursor,
});

export const MessageCreate = z
  .object({ text: Text(8_000).trim().min(1) })
  .strict()
  .openapi("ChatMessageCreate");

export const MessageReply = z
  .object({
    messages: z
      .array(ChatMessage)
      .openapi({ description: "the stored message and the replies it caused, in order" }),
  })
  .openapi("ChatReply");
export type MessageReply = z.infer<typeof MessageReply>;

export const ConfirmBody = z
  .object({
    draft_id: IdOf("draft").optional().openapi({ description: "default: the chat's pending draft" }),
    run: z.boolean().default(true).openapi({ description: "queue a run at once (default true)" }),
  })
  .strict()
  .openapi("ChatConfirm");

export const CancelBody = z
  .object({ draft_id: IdOf("draft").optional() })
  .strict()
  .openapi("ChatCancel");

/**
 * The outcome of a confirm or cancel. Only `approved` and `cancelled` changed anything; every
 * other outcome is an answer (nothing was done twice).
 */
export const answerOutcomes = [
  "approved",
  "cancelled",
  "nothing_pending",
  "already_approved",
  "already_running",
  "superseded",
  "not_allowed",
  "distinct_approver_required",
  "refused",
] as const;
export type AnswerOutcome = (typeof answerOutcomes)[number];

export const ChatAnswer = z
  .object({
    outcome: z.enum(answerOutcomes),
    message: ChatMessage,
    draft_id: z.string().nullable(),
    approved_id: z.string().nullable(),
    run_id: z.string().nullable(),
  })
  .openapi("ChatAnswer");
export type ChatAnswer = z.infer<typeof ChatAnswer>;
