import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../src/core/roles.ts";
import { storageKinds } from "./support/databases.ts";
import {
  type FuzzCase,
  type FuzzResult,
  mapLimit,
  pathsOf,
  prng,
  REMOVE,
  randomJson,
  randomString,
  send,
  toJson,
  withAt,
} from "./support/fuzz.ts";
import {
  baseBody,
  casesFor,
  type Fixtures,
  MAX_BODY,
  type Op,
  operationsOf,
  problemWith,
} from "./support/fuzz-cases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * Hostile input against every operation /openapi.json lists: malformed JSON, wrong types, unknown
 * fields, wrong content types, oversized and chunked bodies, odd unicode, path traversal and SQL-ish
 * ids, odd query strings and headers. Every answer must be a 2xx or a 4xx in the error shape with a
 * correlation id — never a 5xx, never a hang — and afterwards the server is healthy and its event
 * log's hash chain intact. A seeded random-JSON pass follows on the endpoints that take rich bodies.
 */

const CONCURRENCY = 16;
const RANDOM_CASES = 300;
const SHARDS = 4;
const SHARD_IDS = Array.from({ length: SHARDS }, (_, i) => i);

describe.each(storageKinds())("hostile input on %s", (kind) => {
  let g: TestGimo;
  let f: Fixtures;
  let ops: Op[];

  beforeAll(async () => {
    g = await startGimo(kind, { maxBodyBytes: MAX_BODY });
    const draft = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "fuzz target", plan: samplePlan() },
    });
    expect(draft.status).toBe(201);
    const approved = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, { role: "operator" });
    expect(approved.status).toBe(201);
    const run = await g.request("POST", "/ops/runs", {
      role: "operator",
      body: { approved_id: approved.body.approved.id },
    });
    expect(run.status).toBe(201);
    const editable = await g.request("POST", "/ops/drafts", {
      role: "operator",
      body: { prompt: "edit me", plan: samplePlan() },
    });
    const token = await g.request("POST", "/ops/tokens", { body: { name: "fuzz-token", role: "actions" } });
    expect(token.status).toBe(201);
    // A runner holding the run, so the runner protocol's fenced calls get past their fences.
    const runner = await g.request("POST", "/ops/runners/register", {
      role: "runner",
      body: { name: "fuzz" },
    });
    expect(runner.status).toBe(201);
    const claim = await g.request("POST", "/ops/runs/claim", {
      role: "runner",
      body: { runner_id: runner.body.runner_id, wait_seconds: 0 },
    });
    expect(claim.status).toBe(200);
    expect(claim.body.run.id).toBe(run.body.id);
    const chat = await g.request("POST", "/ops/chats", { body: { title: "fuzz" } });
    expect(chat.status).toBe(201);
    const doc = await g.request("GET", "/openapi.json", { role: null });
    expect(doc.status).toBe(200);
    ops = operationsOf(doc.body);
    f = {
      ids: {
        p: g.projectId,
        t: draft.body.task_id,
        d: editable.body.id,
        a: approved.body.approved.id,
        r: run.body.id,
        tk: token.body.id,
        rn: runner.body.runner_id,
        c: chat.body.id,
      },
      editableDraft: editable.body.id,
      approvedId: approved.body.approved.id,
      draftId: draft.body.id,
      repoPath: g.repo.path,
      schemas: doc.body.components?.schemas ?? {},
    };
  });

  afterAll(async () => {
    await g?.close();
  });

  const unhandledSince = (from: number) => g.logs.slice(from).filter((l) => l.includes('"unhandled error"'));

  // ≈14k requests per database: one test took 50 s on an idle 2-CPU machine and passed 120 s under
  // load, so the operations are dealt into SHARDS tests, each with its own budget.
  it.each(SHARD_IDS)(
    "answers every operation's hostile input with a 2xx or a well-formed 4xx (shard %i)",
    async (shard) => {
      const logsFrom = g.logs.length;
      expect(ops.length).toBeGreaterThan(20);
      const isStream = (c: FuzzCase) => /^GET \S+events · admin baseline$/.test(c.label);
      // Over all shards, the event streams are really opened (each shard checks its own below).
      expect(ops.flatMap((op) => casesFor(op, f, g.tokens)).filter(isStream).length).toBeGreaterThanOrEqual(
        2,
      );
      const cases = ops.filter((_, i) => i % SHARDS === shard).flatMap((op) => casesFor(op, f, g.tokens));
      // Routes that do not exist, and paths that escape the API.
      const h = { authorization: `Bearer ${g.tokens.admin}` };
      for (const p of shard > 0
        ? []
        : [
            "/../../etc/passwd",
            "/ops/%2e%2e/%2e%2e/etc/passwd",
            "/%00",
            "/ops//drafts",
            "/ops/drafts/",
            `/${"x".repeat(10_000)}`,
            "/ops/nope?x=%E0%A4%A",
          ]) {
        cases.push({
          label: `GET ${p.slice(0, 40)}`,
          method: "GET",
          path: p,
          raw: true,
          headers: h,
          expect: [400, 404],
        });
      }
      const started = Date.now();
      const results = await mapLimit(cases, CONCURRENCY, (c) => send(g.url, c));
      const problems = cases.map((c, i) => problemWith(c, results[i] as FuzzResult)).filter(Boolean);
      const elapsed = Date.now() - started;
      console.info(
        `[fuzz ${kind}] ${cases.length} requests over ${Math.ceil((ops.length - shard) / SHARDS)} of ${ops.length} operations in ${elapsed} ms`,
      );
      expect(problems).toEqual([]);
      // The event streams were really opened (and aborted), not refused.
      const streams = cases.flatMap((c, i) => (isStream(c) ? [results[i]] : []));
      for (const r of streams) expect(r?.status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(unhandledSince(logsFrom)).toEqual([]);
    },
    240_000,
  );

  // Dealt into shards by target, each with its own budget, for the same reason as above.
  it.each(SHARD_IDS)(
    "answers seeded random JSON on the rich bodies with no 5xx (shard %i)",
    async (shard) => {
      const logsFrom = g.logs.length;
      await g.request("POST", "/ops/panic", { body: { on: false } });
      const planKeys = [
        "title",
        "summary",
        "steps",
        "id",
        "kind",
        "instructions",
        "command",
        "acceptance",
        "risk",
        "budgets",
        "max_turns",
        "max_tokens",
      ];
      const targets: { method: string; path: string; keys: string[]; base: unknown; role: Role }[] = [
        {
          method: "POST",
          path: "/ops/drafts",
          keys: ["prompt", "project", "task_id", "plan", ...planKeys],
          base: { prompt: "p", plan: samplePlan() },
          role: "operator",
        },
        {
          method: "PUT",
          path: `/ops/drafts/${f.editableDraft}`,
          keys: ["prompt", "plan", ...planKeys],
          base: { prompt: "p", plan: samplePlan() },
          role: "operator",
        },
        {
          method: "POST",
          path: "/ops/projects",
          keys: [
            "name",
            "repo_path",
            "repo_url",
            "remote",
            "base_branch",
            "protected_branches",
            "branch_prefix",
            "test_command",
            "forge",
            "kind",
            "api_url",
            "token",
            "sandbox",
            "network",
            "budgets",
            "planner",
            "executor",
            "type",
            "model",
            "options",
            "push",
            "pull_request",
            "max_concurrent_runs",
          ],
          base: {
            name: "rnd",
            repo_url: "https://example.com/r.git",
            forge: { kind: "github", api_url: "https://api.github.com" },
            planner: { type: "openai_compat", model: "m", options: {} },
          },
          role: "admin",
        },
        {
          method: "PUT",
          path: "/ops/plan",
          keys: ["objective", "context", "constraints", "default_auto_run", "require_distinct_approver"],
          base: baseBody({ operationId: "putPlan" } as Op, f),
          role: "admin",
        },
        {
          method: "POST",
          path: "/ops/runs",
          keys: ["approved_id", "depends_on", "priority", "allow_parallel"],
          base: { approved_id: f.approvedId, priority: 1, depends_on: [], allow_parallel: true },
          role: "operator",
        },
        // The runner protocol's rich bodies, fenced by the runner that holds the fixture run.
        ...(["appendRunLogs", "updateRunSteps", "completeRun"] as const).map((operationId) => {
          const base = baseBody({ operationId } as Op, f) as Record<string, unknown>;
          const suffix = { appendRunLogs: "logs", updateRunSteps: "steps", completeRun: "complete" }[
            operationId
          ];
          const keys = [
            ...pathsOf(base).flatMap((p) => p.filter((k) => typeof k === "string")),
            "result",
            "details",
          ];
          return {
            method: "POST",
            path: `/ops/runs/${f.ids.r}/${suffix}`,
            keys,
            base,
            role: "runner" as Role,
          };
        }),
      ];
      const seed = Number(process.env.GIMO_FUZZ_SEED ?? 20_260_101);
      const cases: (FuzzCase & { detail: string })[] = [];
      targets.forEach((t, ti) => {
        if (ti % SHARDS !== shard) return;
        for (let i = 0; i < RANDOM_CASES; i++) {
          const caseSeed = seed + ti * 10_000 + i;
          const r = prng(caseSeed);
          const roll = r.next();
          let value: unknown = t.base;
          let text: string;
          if (roll < 0.3) {
            value = r.next() < 0.8 ? randomJson(r, t.keys, 1) : randomJson(r, t.keys);
          } else if (roll < 0.85) {
            for (let n = 1 + r.int(3); n > 0; n--) {
              const paths = pathsOf(value);
              const pick = r.next();
              if (pick < 0.15 || paths.length === 0) {
                value = withAt(value, [r.pick(t.keys)], randomJson(r, t.keys, 2));
              } else {
                const p = r.pick(paths);
                value = withAt(
                  value,
                  p,
                  pick < 0.3 ? REMOVE : pick < 0.6 ? randomString(r) : randomJson(r, t.keys, 2),
                );
              }
            }
          }
          text = toJson(value);
          if (roll >= 0.85 && roll < 0.95) text = text.slice(0, r.int(text.length + 1));
          else if (roll >= 0.95) {
            const at = r.int(text.length + 1);
            text =
              text.slice(0, at) +
              r.pick(["{", "}", "[", ",", '"', "\\", ":", "\u0000", "NaN"]) +
              text.slice(at);
          }
          const headers: Record<string, string> = {
            authorization: `Bearer ${g.tokens[t.role]}`,
            "content-type": "application/json",
          };
          if (t.path === "/ops/plan" && r.next() < 0.5)
            headers["if-match"] = r.pick(["1", "2", "*", "x", `W/"3"`]);
          cases.push({
            label: `${t.method} ${t.path} seed ${caseSeed}`,
            method: t.method,
            path: t.path,
            headers,
            body: text,
            detail: text.slice(0, 300),
          });
        }
      });
      const results = await mapLimit(cases, 8, (c) => send(g.url, c));
      const problems = cases
        .map((c, i) => {
          const p = problemWith(c, results[i] as FuzzResult);
          return p ? `${p}\n    body: ${c.detail}` : undefined;
        })
        .filter(Boolean);
      const ok = results.filter((r) => r.status >= 200 && r.status < 300).length;
      console.info(
        `[fuzz ${kind}] ${cases.length} random bodies (seed ${seed}): ${ok} accepted, ${cases.length - ok} refused`,
      );
      expect(problems).toEqual([]);
      expect(unhandledSince(logsFrom)).toEqual([]);
    },
    240_000,
  );

  it("keeps unicode text exactly as sent and refuses NUL", async () => {
    const prompt = "Ünïcödé 😀🚀 \u202eRTL\u202c مرحبا עברית 中文 a\u200bb\ufeff e\u0301 ${X} ' OR 1=1 --";
    const plan = { ...samplePlan("Titre 🚀 \u200f"), summary: prompt, acceptance: ["✓ grün"] };
    const created = await g.request("POST", "/ops/drafts", { role: "operator", body: { prompt, plan } });
    expect(created.status).toBe(201);
    const read = await g.request("GET", `/ops/drafts/${created.body.id}`);
    expect(read.body.prompt).toBe(prompt);
    expect(read.body.plan.title).toBe(plan.title);
    expect(read.body.plan.summary).toBe(prompt);
    expect(read.body.plan.acceptance).toEqual(plan.acceptance);
    const nul = await g.request("POST", "/ops/drafts", { role: "operator", body: { prompt: "a\u0000b" } });
    expect(nul.status).toBe(400);
    expect(nul.body.error.code).toBe("validation_failed");
  });

  it("is healthy afterwards and its event log's hash chain is intact", async () => {
    expect((await g.request("GET", "/health", { role: null })).status).toBe(200);
    const ready = await g.request("GET", "/ready", { role: null });
    expect(ready.status).toBe(200);
    const verify = await g.request("GET", "/ops/audit/verify");
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.checked).toBeGreaterThan(0);
    const draft = await g.request("GET", `/ops/drafts/${f.draftId}`);
    expect(draft.status).toBe(200);
    expect(draft.body.status).toBe("approved");
  });
});
