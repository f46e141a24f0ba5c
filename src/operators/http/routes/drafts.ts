import { z } from "@hono/zod-openapi";
import { getApproved, listApproved } from "../../../app/approved.ts";
import { Approved, ApprovedPage, ApprovedQuery } from "../../../contract/approved.ts";
import { IdOf } from "../../../contract/common.ts";
import {
  ApproveBody,
  ApproveResult,
  Draft,
  DraftCreate,
  DraftEdit,
  DraftPage,
  DraftQuery,
  RejectBody,
} from "../../../contract/draft.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { pageFor } from "../page.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

const DraftParams = z.object({ id: IdOf("draft") });

export function registerDraftRoutes(app: HttpApp, deps: HttpDeps): void {
  const { drafts, ctx } = deps.services;
  const tags = ["drafts"];

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/drafts",
        access: "read",
        operationId: "listDrafts",
        description:
          "List drafts (proposed plans), newest first; filter by status, task or project. A draft can be edited, revised, approved or rejected while its status is draft.",
        summary: "List drafts, newest first; filter by status, task or project",
        tags,
        actions: true,
        request: { query: DraftQuery },
        responses: { 200: jsonResponse(DraftPage, "a page of drafts") },
      },
      deps,
    ),
    async (c) => c.json(pageFor(c, await drafts.list(c.req.valid("query"))), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/drafts",
        access: "operator",
        operationId: "createDraft",
        description:
          "Write a draft plan by hand (prompt and plan: title, steps, acceptance, risk), without a model. Creates a task unless task_id is given. It must be approved by a person before it can run.",
        summary: "Write a draft by hand (no model): a new task, or a new revision of task_id",
        tags,
        actions: true,
        request: jsonBody(DraftCreate),
        responses: { 201: jsonResponse(Draft, "the draft, awaiting approval") },
      },
      deps,
    ),
    async (c) => c.json(await drafts.create(c.get("principal"), c.req.valid("json")), 201),
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/drafts/{id}",
        access: "read",
        operationId: "getDraft",
        description:
          "One draft by id: its prompt, plan, revision number, status and who wrote it. Poll it after createTask, generateDraft or reviseDraft until status is no longer generating.",
        summary: "Get a draft with its plan",
        tags,
        actions: true,
        request: { params: DraftParams },
        responses: { 200: jsonResponse(Draft, "the draft") },
      },
      deps,
    ),
    async (c) => c.json(await drafts.get(c.req.valid("param").id), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "put",
        path: "/ops/drafts/{id}",
        access: "operator",
        operationId: "updateDraft",
        description:
          "Edit a draft's prompt or plan while its status is draft; 409 once it is approved, rejected or superseded.",
        summary: "Edit a draft's prompt or plan while it is in status draft (409 otherwise)",
        tags,
        actions: true,
        request: { params: DraftParams, ...jsonBody(DraftEdit) },
        responses: { 200: jsonResponse(Draft, "the edited draft") },
      },
      deps,
    ),
    async (c) =>
      c.json(await drafts.edit(c.get("principal"), c.req.valid("param").id, c.req.valid("json")), 200),
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/drafts/{id}/approve",
        access: "operator",
        operationId: "approveDraft",
        description:
          "Approve a draft: GIMO stores an immutable snapshot (a_ id, content hash) that runners may execute; auto_run also queues a run. Atomic: a second approval answers 409. A person's decision: never approve a plan you wrote yourself.",
        summary:
          "Approve a draft: freezes its plan with a content hash; auto_run (default: the plan's default_auto_run) also queues a run. A second approve is 409",
        tags,
        actions: true,
        request: { params: DraftParams, ...jsonBody(ApproveBody, false) },
        responses: { 201: jsonResponse(ApproveResult, "the approved snapshot and the queued run, if any") },
      },
      deps,
    ),
    async (c) => {
      const result = await drafts.approve(
        c.get("principal"),
        c.req.valid("param").id,
        c.req.valid("json") ?? {},
      );
      return c.json(result, 201);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/drafts/{id}/reject",
        access: "operator",
        operationId: "rejectDraft",
        description:
          "Reject a draft with an optional reason. The task ends REJECTED unless a later revision is approved.",
        summary: "Reject a draft",
        tags,
        actions: true,
        request: { params: DraftParams, ...jsonBody(RejectBody, false) },
        responses: { 200: jsonResponse(Draft, "the rejected draft") },
      },
      deps,
    ),
    async (c) => {
      const body = c.req.valid("json") ?? {};
      return c.json(await drafts.reject(c.get("principal"), c.req.valid("param").id, body.reason), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/approved",
        access: "read",
        operationId: "listApproved",
        description:
          "List approved plans (immutable snapshots of approved drafts, a_ ids), newest first; filter by task or project. Only these can run.",
        summary: "List approved plans, newest first",
        tags,
        actions: true,
        request: { query: ApprovedQuery },
        responses: { 200: jsonResponse(ApprovedPage, "a page of approved plans") },
      },
      deps,
    ),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(pageFor(c, await listApproved(ctx, q)), 200);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "get",
        path: "/ops/approved/{id}",
        access: "read",
        operationId: "getApproved",
        description:
          "One approved plan by id: the plan as approved, its content hash, who approved it and when, and whether it runs on approval.",
        summary: "Get an approved plan (immutable) with its content hash",
        tags,
        actions: true,
        request: { params: z.object({ id: IdOf("approved") }) },
        responses: { 200: jsonResponse(Approved, "the approved plan") },
      },
      deps,
    ),
    async (c) => c.json(await getApproved(ctx, c.req.valid("param").id), 200),
  );
}
