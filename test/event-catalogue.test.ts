import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventPayloadProblem,
  eventPayloads,
  eventTypes,
  isEventType,
  runTerminalEvents,
} from "../src/contract/events.ts";
import { eventAccess } from "../src/core/event-visibility.ts";
import { runStatuses } from "../src/core/run-machine.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";

/**
 * The event catalogue (src/contract/events.ts) is the one list of what GIMO writes to its log.
 * Here: every name the code writes — TypeScript `emit` calls and the PL/pgSQL bodies of the
 * PostgreSQL functions — is in it; the OpenAPI document lists it; its schemas refuse what does
 * not fit. (Every test's GIMO also checks, when it closes, that each event it wrote fits the
 * catalogue: test/support/harness.ts.)
 */

const root = join(import.meta.dirname, "..");

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** The text between `$fn$` quotes: the bodies of the PostgreSQL functions. */
function plpgsqlBodies(source: string): string[] {
  return [...source.matchAll(/\$fn\$([\s\S]*?)\$fn\$/g)].map((m) => m[1] as string);
}

describe("the event catalogue", () => {
  it("holds every event name the PostgreSQL functions write", async () => {
    const written = new Set<string>();
    let dynamicRunEnd = false;
    let bodies = 0;
    for (const file of await sourceFiles("src/store")) {
      for (const body of plpgsqlBodies(await readFile(file, "utf8"))) {
        bodies += 1;
        for (const [, name] of body.matchAll(/'([a-z_]+\.[a-z_.]*)'/g)) {
          if (name === "run.") dynamicRunEnd = true;
          else written.add(name as string);
        }
      }
    }
    expect(bodies).toBeGreaterThan(5);
    expect([...written].sort()).toEqual(
      expect.arrayContaining(["draft.approved", "run.retry", "run.started", "task.status"]),
    );
    for (const name of written) expect(isEventType(name), name).toBe(true);
    // `'run.' || p_status`: p_status is the end a runner reported (or cancelled, on request).
    expect(dynamicRunEnd).toBe(true);
    for (const status of ["succeeded", "failed", "cancelled"]) {
      expect(runStatuses).toContain(status);
      expect(isEventType(`run.${status}`), `run.${status}`).toBe(true);
    }
  });

  it("holds every event name TypeScript emits", async () => {
    const emitted = new Set<string>();
    for (const file of await sourceFiles("src")) {
      const text = await readFile(file, "utf8");
      for (const [, name] of text.matchAll(/\bw\.emit\(\s*"([^"]+)"/g)) emitted.add(name as string);
      for (const [, a, b] of text.matchAll(/\bw\.emit\(\s*\w+ \? "([^"]+)" : "([^"]+)"/g)) {
        emitted.add(a as string);
        emitted.add(b as string);
      }
    }
    expect(emitted.size).toBeGreaterThan(20);
    for (const name of emitted) expect(isEventType(name), name).toBe(true);
  });

  it("names a family every type's visibility rule knows, and ends runs by their terminal events", () => {
    for (const type of eventTypes) expect(["read", "secret_read"]).toContain(eventAccess(type));
    expect(eventAccess("token.created")).toBe("secret_read");
    expect(eventAccess("run.logs")).toBe("read");
    for (const type of runTerminalEvents) expect(eventTypes).toContain(type);
  });

  it("refuses an unknown type and a payload that does not fit", () => {
    expect(eventPayloadProblem("run.exploded", {})).toMatch(/not in the event catalogue/);
    expect(eventPayloadProblem("run.started", { task_id: "tsk_1", attempt: "1", runner_id: "r" })).toMatch(
      /attempt/,
    );
    expect(
      eventPayloadProblem("run.started", { task_id: "tsk_1", attempt: 1, runner_id: "r" }),
    ).toBeUndefined();
    expect(eventPayloadProblem("task.status", { from: "EXECUTING", to: "DONE" })).toMatch(/to/);
    expect(Object.keys(eventPayloads)).toEqual(eventTypes);
  });

  describe("in /openapi.json", () => {
    let g: TestGimo;
    beforeAll(async () => {
      g = await startGimo("sqlite");
    });
    afterAll(async () => {
      await g?.close();
    });

    it("lists every event type on both streams and as the EventType component", async () => {
      const doc = (await g.request("GET", "/openapi.json", { role: null })).body;
      expect(doc.components.schemas.EventType.enum).toEqual(eventTypes);
      for (const path of ["/ops/events", "/ops/runs/{id}/events"]) {
        const answer = doc.paths[path].get.responses["200"];
        for (const type of eventTypes) expect(answer.description, `${path} ${type}`).toContain(type);
        expect(JSON.stringify(answer.content["text/event-stream"].schema)).toContain("EventStreamFrame");
      }
    });
  });
});
