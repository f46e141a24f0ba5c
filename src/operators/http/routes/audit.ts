import { z } from "@hono/zod-openapi";
import { Cursor, Limit, Text } from "../../../contract/common.ts";
import { AuditHead, AuditVerify, AuditVerifyQuery, EventPage } from "../../../contract/event.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonResponse } from "../route.ts";
import { eventStreamResponse, streamEvents } from "../sse.ts";

const AuditQuery = z.object({
  subject: Text(100).optional(),
  type: Text(100).optional(),
  limit: Limit,
  cursor: Cursor,
});

const StreamQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: "resume after this seq (or send Last-Event-ID)" }),
});

export function registerAuditRoutes(app: HttpApp, deps: HttpDeps): void {
  const { audit } = deps.services;
  const tags = ["events"];

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/audit",
        access: "secret_read",
        operationId: "listAudit",
        description:
          "The hash-chained event log, oldest first from a seq: every state change with who made it. Admin only.",
        summary: "The event log, oldest first: who did what, when, in a hash chain",
        tags,
        request: { query: AuditQuery },
        responses: { 200: jsonResponse(EventPage, "a page of events") },
      },
      deps,
    ),
    async (c) => c.json(await audit.list(c.req.valid("query")), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/audit/verify",
        access: "secret_read",
        operationId: "verifyAudit",
        description:
          "Walk the audit hash chain and cross-check every approved plan against the hash its approval recorded: {ok, checked, broken_at?}. With head=<seq>:<hash> it also proves that nothing after that head was removed. Admin only.",
        summary:
          "Walk the hash chain and check each approved plan against the hash its approval recorded; names the first seq that was edited, deleted or reordered; with ?head=<seq>:<hash> also proves that recorded head is still in the chain",
        tags,
        request: { query: AuditVerifyQuery },
        responses: { 200: jsonResponse(AuditVerify, "the verdict") },
      },
      deps,
    ),
    async (c) => c.json(await audit.verify(parseHead(c.req.valid("query").head)), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/audit/head",
        access: "secret_read",
        operationId: "getAuditHead",
        description:
          "The newest event's seq and hash. Keep it where GIMO cannot write, and pass it to verifyAudit later to detect a truncated or rewritten log. Admin only.",
        summary:
          "The last event's seq and hash: record it outside GIMO, then verify?head=<seq>:<hash> proves nothing up to it was removed or rewritten",
        tags,
        responses: { 200: jsonResponse(AuditHead, "the head of the chain") },
      },
      deps,
    ),
    async (c) => c.json(await audit.head(), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/events",
        access: "read",
        operationId: "streamEvents",
        description:
          "Server-Sent Events of everything the caller may see, live. Each event id is its seq; send Last-Event-ID to resume without loss. Admin-only events reach admins only.",
        summary:
          "Server-Sent Events of every change; id is the event seq; Last-Event-ID resumes without loss",
        tags,
        request: {
          query: StreamQuery,
          headers: z.object({ "last-event-id": z.string().max(20).optional() }),
        },
        responses: {
          200: eventStreamResponse("every event the reader may see, from the head (or Last-Event-ID)"),
        },
      },
      deps,
    ),
    (c) => streamEvents(c, deps, {}),
  );
}

/** `<seq>:<hash>` (already checked by AuditVerifyQuery) → the head it names. */
function parseHead(text: string | undefined): AuditHead | undefined {
  if (text === undefined) return undefined;
  const colon = text.indexOf(":");
  return { seq: Number(text.slice(0, colon)), hash: text.slice(colon + 1) };
}
