import { VERSION } from "../../app/status.ts";
import type { HttpApp } from "./env.ts";

/**
 * The OpenAPI documents, generated from the routes (never hand-written):
 *  - `/openapi.json`: every route, OpenAPI 3.1;
 *  - `/openapi.actions.json`: the ChatGPT Actions subset (SPEC §7.5) — the routes marked
 *    `actions`, at most 30, each with `x-openai-isConsequential`, bearer auth, no GIMO extensions.
 */
type Doc = ReturnType<HttpApp["getOpenAPI31Document"]>;
type Operation = Record<string, unknown>;

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

export function fullDocument(app: HttpApp, publicUrl: string): Doc {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "GIMO",
      version: VERSION,
      description:
        "Self-hosted control plane for AI coding work: a planner drafts, people approve, runners execute approved plans on task branches.",
    },
    servers: [{ url: publicUrl }],
  });
}

export function actionsDocument(app: HttpApp, publicUrl: string): Doc {
  const full = structuredClone(fullDocument(app, publicUrl));
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [path, item] of Object.entries(full.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (op?.["x-gimo-actions"] !== true) continue;
      paths[path] ??= {};
      paths[path][method] = actionsOperation(op, method);
    }
  }
  return {
    ...full,
    info: { ...full.info, title: "GIMO for ChatGPT Actions" },
    paths: paths as Doc["paths"],
  };
}

function actionsOperation(op: Operation, method: string): Operation {
  const { "x-gimo-access": _access, "x-gimo-actions": _actions, ...rest } = op;
  const parameters = (
    (rest.parameters as { name: string; in: string; description?: string }[] | undefined) ?? []
  )
    .filter((p) => !(p.in === "header" && p.name === "idempotency-key"))
    .map((p) =>
      p.description && p.description.length > 700 ? { ...p, description: p.description.slice(0, 700) } : p,
    );
  return { ...rest, parameters, "x-openai-isConsequential": method !== "get" };
}

/** Strips internal extensions from the full document's operations, leaving x-gimo-access for readers. */
export function stripActionsMarks(doc: Doc): Doc {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (op) delete op["x-gimo-actions"];
    }
  }
  return doc;
}
