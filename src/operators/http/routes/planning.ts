import { z } from "@hono/zod-openapi";
import type { GenerateOutcome } from "../../../app/planning.ts";
import { IdOf } from "../../../contract/common.ts";
import { Draft } from "../../../contract/draft.ts";
import {
  GenerateBody,
  ProposeBody,
  ProposeResult,
  ReviseBody,
  TaskCreate,
} from "../../../contract/planning.ts";
import { GimoError } from "../../../core/errors.ts";
import type { HttpApp, HttpDeps } from "../env.ts";
import { defineRoute, jsonBody, jsonResponse } from "../route.ts";

/**
 * The planner's routes. A generation answers 201 with the draft when it finished within
 * `GIMO_GENERATE_WAIT_S` (status `draft`, or `error` when the model's answers were unusable), 202
 * with the `generating` draft otherwise, and 503 when the model could not be reached.
 */
const generated = {
  201: jsonResponse(Draft, "finished: the draft (status draft, or error with a message)"),
  202: jsonResponse(Draft, "still generating: poll getDraft or follow the events"),
};

function answer(outcome: GenerateOutcome): { draft: z.infer<typeof Draft>; status: 201 | 202 } {
  if (outcome.kind === "unavailable") {
    throw new GimoError(
      outcome.error.code === "rate_limited" ? "rate_limited" : "unavailable",
      outcome.error.message,
      {
        draft_id: outcome.draft.id,
        ...(outcome.error.details && typeof outcome.error.details === "object" ? outcome.error.details : {}),
      },
    );
  }
  return { draft: outcome.draft, status: outcome.kind === "done" ? 201 : 202 };
}

export function registerPlanningRoutes(app: HttpApp, deps: HttpDeps): void {
  const { planning } = deps.services;
  const tags = ["planning"];

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/tasks",
        access: "operator",
        operationId: "createTask",
        description:
          "Start a task from a request in plain words: the planner model writes its first draft. Answers 201 with the draft when it is ready in time, else 202 with the draft still generating; poll getDraft. Nothing runs until a person approves.",
        summary:
          "Hand GIMO a task: the planner writes its first draft (201 done, 202 still generating, 503 model down)",
        tags,
        actions: true,
        request: jsonBody(TaskCreate),
        responses: generated,
      },
      deps,
    ),
    async (c) => {
      const { draft, status } = answer(await planning.generate(c.get("principal"), c.req.valid("json")));
      return c.json(draft, status);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/generate",
        access: "operator",
        operationId: "generateDraft",
        description:
          "Ask the planner model for a draft from a request, with optional extra context. 201 with the draft when done in time, else 202 while it is generating; poll getDraft.",
        summary: "Ask the planner for a draft plan (201 done, 202 still generating, 503 model down)",
        tags,
        actions: true,
        request: jsonBody(GenerateBody),
        responses: generated,
      },
      deps,
    ),
    async (c) => {
      const { draft, status } = answer(await planning.generate(c.get("principal"), c.req.valid("json")));
      return c.json(draft, status);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/drafts/{id}/revise",
        access: "operator",
        operationId: "reviseDraft",
        description:
          "Ask the planner for a new revision of a draft from feedback: the new draft (rev+1) replaces it and the old one becomes superseded. 201 when it is ready in time, else 202 while it is generating.",
        summary: "Revise a draft with feedback: a new revision is generated, the old one is superseded",
        tags,
        actions: true,
        request: { params: z.object({ id: IdOf("draft") }), ...jsonBody(ReviseBody) },
        responses: generated,
      },
      deps,
    ),
    async (c) => {
      const outcome = await planning.revise(
        c.get("principal"),
        c.req.valid("param").id,
        c.req.valid("json").feedback,
      );
      const { draft, status } = answer(outcome);
      return c.json(draft, status);
    },
  );

  app.openapi(
    defineRoute(
      {
        method: "post",
        path: "/ops/plan/propose",
        access: "operator",
        operationId: "proposeDrafts",
        description:
          "Let the planner read the plan document, repository context and recent runs and propose up to count new drafts, each waiting for a person's approval.",
        summary:
          "The planner reads the plan, context and recent runs and proposes up to count new drafts, each awaiting approval",
        tags,
        request: jsonBody(ProposeBody),
        responses: { 201: jsonResponse(ProposeResult, "the proposed drafts") },
      },
      deps,
    ),
    async (c) => c.json({ drafts: await planning.propose(c.get("principal"), c.req.valid("json")) }, 201),
  );
}
