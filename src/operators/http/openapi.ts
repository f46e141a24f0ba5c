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

/** Every tag a route may carry, described once (a route with another tag fails `lint:api`). */
const TAGS: Record<string, string> = {
  system: "Health, readiness, server status and panic mode.",
  projects: "Git repositories GIMO works on, their plan document and their context files.",
  tasks: "User requests, each grouping its drafts, approval and runs, with a derived status.",
  drafts: "Proposed plans: edit, approve or reject them; approved plans are immutable snapshots.",
  planning: "The planner model writes drafts: from a request, from feedback, or proposed from the plan.",
  runs: "Executions of approved plans: queue, follow, cancel, requeue; logs and live events.",
  runners: "The runner fleet and the queue's metrics.",
  "runner protocol": "What runner processes call: register, heartbeat, claim, lease, report, complete.",
  providers: "Model providers and the credential requests of their secrets.",
  tokens: "API tokens and their roles.",
  events: "The hash-chained audit log, its verification and the live event stream.",
  integrations:
    "External OpenAPI services and MCP servers: registration, discovery, allow-lists and test calls through the gateway.",
  chats:
    "Conversations with the planner: messages, proposed plans confirmed or cancelled, run progress posted back.",
};

export function fullDocument(app: HttpApp, publicUrl: string): Doc {
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "GIMO",
      version: VERSION,
      description:
        "Self-hosted control plane for AI coding work: a planner drafts, people approve, runners execute approved plans on task branches.",
    },
    servers: [{ url: publicUrl }],
  });
  // 3.1's SPDX `identifier` (the generator's types know only 3.0's license object).
  const license = { name: "MIT", identifier: "MIT" } as NonNullable<Doc["info"]["license"]>;
  return { ...doc, info: { ...doc.info, license }, tags: tagsUsed(doc) };
}

function tagsUsed(doc: Doc): { name: string; description: string }[] {
  const used = new Set<string>();
  for (const item of Object.values(doc.paths ?? {}))
    for (const method of METHODS)
      for (const tag of ((item as Record<string, Operation | undefined>)[method]?.tags as string[]) ?? [])
        used.add(tag);
  return Object.entries(TAGS)
    .filter(([name]) => used.has(name))
    .map(([name, description]) => ({ name, description }));
}

/** Keeps only the components the paths reach, directly or through other components. */
function reachableComponents(doc: Doc): Doc["components"] {
  const components = (doc.components ?? {}) as Record<string, Record<string, unknown>>;
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== "object") return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string" && inner.startsWith("#/components/")) {
        if (seen.has(inner)) continue;
        seen.add(inner);
        const [, , kind, name] = inner.split("/");
        if (kind && name) visit(components[kind]?.[name]);
      } else visit(inner);
    }
  };
  visit(doc.paths);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [kind, entries] of Object.entries(components)) {
    for (const [name, value] of Object.entries(entries)) {
      if (kind !== "securitySchemes" && !seen.has(`#/components/${kind}/${name}`)) continue;
      out[kind] ??= {};
      out[kind][name] = value;
    }
  }
  return out as Doc["components"];
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
  const doc: Doc = {
    ...full,
    info: { ...full.info, title: "GIMO for ChatGPT Actions" },
    paths: paths as Doc["paths"],
  };
  return { ...doc, tags: tagsUsed(doc), components: reachableComponents(doc) };
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
