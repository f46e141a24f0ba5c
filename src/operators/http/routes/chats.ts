import { z } from "@hono/zod-openapi";
import {
  CancelBody,
  Chat,
  ChatAnswer,
  ChatCreate,
  ChatMessagePage,
  ChatPage,
  ChatPatch,
  ChatQuery,
  ConfirmBody,
  MessageCreate,
  MessageQuery,
  MessageReply,
} from "../../../contract/chat.ts";
import { IdOf } from "../../../contract/common.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { pageFor } from "../page.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";
import { streamEvents } from "../sse.ts";

/** Chats (SPEC §7.4): thin handlers over ChatService, ChatConversation and ChatApprovals. */
const ChatParams = z.object({ id: IdOf("chat") });

export function registerChatRoutes(app: HttpApp, deps: HttpDeps): void {
  const { chats, chatApprovals, conversation } = deps.services;
  const tags = ["chats"];

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/chats",
        access: "read",
        operationId: "listChats",
        description:
          "Lists the chats people and bots hold with the planner, newest first. Filter by project; archived chats appear only with archived=true or all.",
        summary: "List chats, newest first; filter by project; archived ones only with archived=true|all",
        tags,
        request: { query: ChatQuery },
        responses: { 200: jsonResponse(ChatPage, "a page of chats") },
      },
      deps,
    ),
    async (c) => c.json(pageFor(c, await chats.list(c.req.valid("query"))), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/chats",
        access: "operator",
        operationId: "createChat",
        description:
          "Starts a conversation with the planner on a project (the default project when none is given). Send messages to it to get plans proposed.",
        summary: "Start a chat on a project (the default project when none is given)",
        tags,
        request: jsonBody(ChatCreate, false),
        responses: { 201: jsonResponse(Chat, "the new chat") },
      },
      deps,
    ),
    async (c) => c.json(await chats.create(c.get("principal"), c.req.valid("json") ?? {}), 201),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/chats/{id}",
        access: "read",
        operationId: "getChat",
        description:
          "Returns one chat: its project, title, archived flag and the draft it has pending, if any.",
        summary: "Get a chat",
        tags,
        request: { params: ChatParams },
        responses: { 200: jsonResponse(Chat, "the chat") },
      },
      deps,
    ),
    async (c) => c.json(await chats.get(c.req.valid("param").id), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "patch",
        path: "/ops/chats/{id}",
        access: "operator",
        operationId: "updateChat",
        description: "Renames a chat, or archives or unarchives it. Archived chats keep their messages.",
        summary: "Rename a chat or archive/unarchive it",
        tags,
        request: { params: ChatParams, ...jsonBody(ChatPatch) },
        responses: { 200: jsonResponse(Chat, "the chat") },
      },
      deps,
    ),
    async (c) =>
      c.json(await chats.patch(c.get("principal"), c.req.valid("param").id, c.req.valid("json")), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/chats/{id}/messages",
        access: "read",
        operationId: "listChatMessages",
        description:
          "Returns a chat's messages (user, assistant, plan proposals, run progress), oldest first or newest first with order=desc, keyset-paginated.",
        summary: "A chat's messages, oldest first (order=desc: newest first), keyset-paginated",
        tags,
        request: { params: ChatParams, query: MessageQuery },
        responses: { 200: jsonResponse(ChatMessagePage, "a page of messages") },
      },
      deps,
    ),
    async (c) => c.json(pageFor(c, await chats.messages(c.req.valid("param").id, c.req.valid("query"))), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/chats/{id}/messages",
        access: "operator",
        operationId: "sendChatMessage",
        description:
          "Sends a message to the chat's planner. It answers with the chat's history and read-only tools, and may propose a plan as a draft; saying confirm or cancel acts on the pending plan.",
        summary:
          "Say something in a chat: the planner answers with the chat's history and its tools, and may propose a plan (a draft) to confirm or cancel. A model that cannot be reached is answered with an error message; no planner configured is 422",
        tags,
        request: { params: ChatParams, ...jsonBody(MessageCreate) },
        responses: { 201: jsonResponse(MessageReply, "the stored message and the replies") },
      },
      deps,
    ),
    async (c) =>
      c.json(
        await conversation.send(c.get("principal"), c.req.valid("param").id, c.req.valid("json").text),
        201,
      ),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/chats/{id}/confirm",
        access: "operator",
        operationId: "confirmChatPlan",
        description:
          "Approves the chat's pending plan through the same approval gate as the drafts API, and queues its run unless run=false. A repeated or refused confirm is answered with its outcome, never executed twice.",
        summary:
          "Approve the chat's pending plan (same compare-and-swap as approveDraft) and, unless run=false, queue its run. A second confirm or one while a run is active is answered, not executed",
        tags,
        request: { params: ChatParams, ...jsonBody(ConfirmBody, false) },
        responses: { 200: jsonResponse(ChatAnswer, "what happened (outcome), also posted into the chat") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json") ?? { run: true };
      return c.json(await chatApprovals.confirm(c.get("principal"), c.req.valid("param").id, body), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/chats/{id}/cancel",
        access: "operator",
        operationId: "cancelChatPlan",
        description: "Rejects the chat's pending plan. Answered with nothing_pending when there is none.",
        summary: "Cancel (reject) the chat's pending plan; answered when nothing is pending",
        tags,
        request: { params: ChatParams, ...jsonBody(CancelBody, false) },
        responses: { 200: jsonResponse(ChatAnswer, "what happened (outcome), also posted into the chat") },
      },
      deps,
    ),
    async (c) =>
      c.json(
        await chatApprovals.cancel(c.get("principal"), c.req.valid("param").id, c.req.valid("json") ?? {}),
        200,
      ),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/chats/{id}/events",
        access: "read",
        operationId: "streamChatEvents",
        description:
          "Server-Sent Events of one chat (chat.message, chat.updated). Send Last-Event-ID to resume after a dropped connection.",
        summary: "Server-Sent Events of one chat (chat.message, chat.updated); Last-Event-ID resumes",
        tags,
        request: {
          params: ChatParams,
          query: z.object({ after: z.coerce.number().int().min(0).optional() }),
          // checked before the chat is looked up: a bad resume point is a 400 whatever the chat
          headers: z.object({
            "last-event-id": z
              .string()
              .regex(/^(\d{1,15})?$/, "Last-Event-ID must be an event seq")
              .optional(),
          }),
        },
        responses: {
          200: { description: "text/event-stream", content: { "text/event-stream": { schema: z.string() } } },
        },
      },
      deps,
    ),
    async (c) => {
      const id = c.req.valid("param").id;
      await chats.get(id);
      return streamEvents(c, deps, { subjects: [id] });
    },
  );
}
