/**
 * API micro-benchmark: how far is a GIMO route from a bare Hono "hello"?
 *
 *   npm run bench:api -- [--duration 6] [--connections 10] [--warmup 1]
 *
 * Process model (the fairness rule): every server under test — the bare Hono baseline and GIMO on
 * SQLite and on PostgreSQL — runs in its own CHILD process (servers.ts, forked), one
 * at a time, served by the same `@hono/node-server` `serve()` on 127.0.0.1:0. The load generator
 * (autocannon) runs in this parent process, so it never shares an event loop with the server it
 * measures. Each child is stopped before the next one starts.
 *
 * Two baselines: "hello" (a bare route answering five bytes, the issue's yardstick) and the same
 * bare route answering exactly what GIMO answered to GET /ops/runs/{id} — its body and headers, copied
 * from one real answer. The second separates what the answer's size costs (the socket write is
 * most of a small server's CPU here) from what GIMO's own work per request costs.
 *
 * Figures: req/s is autocannon's mean of per-second samples; p99 is computed here from every
 * response time of the measured window (autocannon's own histogram rounds to whole milliseconds,
 * too coarse for a ~1 ms baseline). The warm-up window is not counted.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon, { type Result } from "autocannon";
import { adminQuery, createRepo, dbUrl, emitSummary, PG_ADMIN_URL, percentile } from "../support.ts";
import { type Answer, startChild } from "./servers.ts";

// ───────────────────────────── parent: the load ─────────────────────────────

interface Figures {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  problems: string[];
}

interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  expectStatus: number;
}

async function measure(label: string, spec: LoadSpec, opts: BenchOptions): Promise<Figures> {
  const times: number[] = [];
  const statuses = new Map<number, number>();
  const instance = autocannon({
    url: spec.url,
    method: spec.method ?? "GET",
    headers: spec.headers,
    body: spec.body,
    connections: opts.connections,
    duration: opts.duration,
    warmup: opts.warmup > 0 ? { connections: opts.connections, duration: opts.warmup } : undefined,
  });
  // Fires for the measured window only: autocannon reports warm-up responses on a separate emitter.
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    times.push(responseTime);
    statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
  });
  const result: Result = await instance;
  times.sort((a, b) => a - b);
  const problems: string[] = [];
  if (result.errors > 0) problems.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  for (const [status, count] of statuses) {
    if (status !== spec.expectStatus)
      problems.push(`${count}× HTTP ${status} (expected ${spec.expectStatus})`);
  }
  if (times.length === 0) problems.push("no responses");
  const figures = {
    label,
    rps: result.requests.average,
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    requests: times.length,
    problems,
  };
  process.stderr.write(
    `  ${label}: ${fmt(figures.rps, 0)} req/s, p99 ${fmt(figures.p99, 2)} ms${problems.length ? `  !! ${problems.join("; ")}` : ""}\n`,
  );
  return figures;
}

interface BenchOptions {
  duration: number;
  connections: number;
  warmup: number;
  /** Skip the POST rows (for profiling the read path: node --cpu-prof bench/api/run.ts --get-only). */
  getOnly: boolean;
}

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", short: "d", default: "6" },
      connections: { type: "string", short: "c", default: "10" },
      warmup: { type: "string", short: "w", default: "1" },
      "get-only": { type: "boolean", default: false },
    },
  });
  const num = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min} (got ${raw})`);
    return n;
  };
  return {
    duration: num("duration", values.duration, 1),
    connections: Math.floor(num("connections", values.connections, 1)),
    warmup: num("warmup", values.warmup, 0),
    getOnly: values["get-only"],
  };
}

const plan = {
  title: "Add input validation",
  summary: "Reject negative quantities.",
  steps: [
    { id: "s1", kind: "agent", title: "Add validation", instructions: "Validate quantity >= 0" },
    { id: "s2", kind: "test", title: "Unit tests" },
  ],
  acceptance: ["Tests green"],
  risk: "low",
};
const draftBody = JSON.stringify({ prompt: "Reject negative quantities in the order form", plan });

/** Creates one queued run through the public API (draft → approve with auto_run). */
async function createRun(url: string, token: string): Promise<string> {
  const call = async (path: string, body: unknown, expect: number) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== expect) throw new Error(`POST ${path} → ${res.status} (expected ${expect}): ${text}`);
    return JSON.parse(text);
  };
  const draft = await call("/ops/drafts", JSON.parse(draftBody), 201);
  const approved = await call(`/ops/drafts/${draft.id}/approve`, { auto_run: true }, 201);
  const runId = approved.run?.id;
  if (typeof runId !== "string") throw new Error(`approve returned no run: ${JSON.stringify(approved)}`);
  return runId;
}

/** GIMO's answer to one GET, to replay from a bare route: the headers every answer differs in dropped. */
async function copyAnswer(url: string, token: string): Promise<Answer> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const perAnswer = new Set(["date", "content-length", "connection", "keep-alive", "transfer-encoding"]);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!perAnswer.has(name)) headers[name] = value;
  });
  return { status: res.status, headers, body: await res.text() };
}

/** A token minted through the API (stored hashed, looked up per request unlike the env tokens). */
async function mintToken(url: string, admin: string): Promise<string> {
  const res = await fetch(`${url}/ops/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name: `bench-${randomBytes(4).toString("hex")}`, role: "operator" }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 || typeof body.token !== "string")
    throw new Error(`minting a token → ${res.status}`);
  return body.token;
}

async function benchGimo(
  storage: "sqlite" | "postgres",
  root: string,
  repoPath: string,
  databaseUrl: string | undefined,
  opts: BenchOptions,
): Promise<{ rows: Figures[]; answer: Answer }> {
  const operator = `opr_${randomBytes(12).toString("hex")}`;
  const admin = `adm_${randomBytes(12).toString("hex")}`;
  const child = await startChild("gimo", {
    GIMO_DATA_DIR: join(root, `data-${storage}`),
    DATABASE_URL: databaseUrl ?? "",
    ORCH_ADMIN_TOKEN: admin,
    ORCH_OPERATOR_TOKEN: operator,
    GIMO_RATE_LIMIT_RPS: "0",
    GIMO_EMBEDDED_RUNNERS: "0",
    LOG_LEVEL: "silent",
    BENCH_REPO_PATH: repoPath,
  });
  try {
    const runId = await createRun(child.url, operator);
    const auth = { authorization: `Bearer ${operator}` };
    const answer = await copyAnswer(`${child.url}/ops/runs/${runId}`, operator);
    const get = await measure(
      `GET  /ops/runs/{id}  ${storage}`,
      { url: `${child.url}/ops/runs/${runId}`, headers: auth, expectStatus: 200 },
      opts,
    );
    const minted = await mintToken(child.url, admin);
    const getMinted = await measure(
      `GET  /ops/runs/{id}  ${storage} minted`,
      {
        url: `${child.url}/ops/runs/${runId}`,
        headers: { authorization: `Bearer ${minted}` },
        expectStatus: 200,
      },
      opts,
    );
    if (opts.getOnly) return { rows: [get, getMinted], answer };
    const post = await measure(
      `POST /ops/drafts     ${storage}`,
      {
        url: `${child.url}/ops/drafts`,
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: draftBody,
        expectStatus: 201,
      },
      opts,
    );
    return { rows: [get, getMinted, post], answer };
  } finally {
    await child.stop();
  }
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

function report(
  baseline: Figures,
  same: Figures,
  answerBytes: number,
  rows: Figures[],
  opts: BenchOptions,
): void {
  const out: string[] = [];
  out.push("");
  out.push(
    `GIMO API bench — ${opts.connections} connections, ${opts.duration} s measured after ${opts.warmup} s warm-up, node ${process.version}`,
  );
  out.push("");
  const w = Math.max(...[baseline, same, ...rows].map((r) => r.label.length));
  out.push(
    `${"target".padEnd(w)}  ${"req/s".padStart(8)}  ${"p50 ms".padStart(7)}  ${"p99 ms".padStart(7)}  vs hello`,
  );
  for (const r of [baseline, same, ...rows]) {
    const sameAnswer = r.label.startsWith("GET") ? `; ${fmt(r.rps / same.rps, 2)}× the same answer` : "";
    const ratio =
      r === baseline
        ? "(baseline)"
        : r === same
          ? `(baseline: GIMO's GET answer, ${answerBytes} bytes of body, replayed)`
          : `${fmt(r.rps / baseline.rps, 2)}× hello req/s, p99 ${fmt(r.p99 / baseline.p99, 1)}× hello${sameAnswer}`;
    const flag = r.problems.length ? `  !! ${r.problems.join("; ")}` : "";
    out.push(
      `${r.label.padEnd(w)}  ${fmt(r.rps, 0).padStart(8)}  ${fmt(r.p50, 2).padStart(7)}  ${fmt(r.p99, 2).padStart(7)}  ${ratio}${flag}`,
    );
  }
  out.push("");
  process.stdout.write(`${out.join("\n")}\n`);
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const root = mkdtempSync(join(tmpdir(), "gimo-bench-"));
  const pgName = `gimo_bench_${randomBytes(6).toString("hex")}`;
  let pgCreated = false;
  const cleanup = async () => {
    rmSync(root, { recursive: true, force: true });
    if (pgCreated) {
      pgCreated = false;
      await adminQuery(`drop database if exists ${pgName} with (force)`).catch((e) =>
        process.stderr.write(`could not drop ${pgName}: ${e}\n`),
      );
    }
  };
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));

  let failed = false;
  try {
    const repoPath = createRepo(root);
    process.stderr.write(
      `measuring (${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s each)…\n`,
    );

    const hello = await startChild("hello", {});
    let baseline: Figures;
    try {
      baseline = await measure("hello (bare Hono)", { url: `${hello.url}/`, expectStatus: 200 }, opts);
    } finally {
      await hello.stop();
    }

    const { rows, answer } = await benchGimo("sqlite", root, repoPath, undefined, opts);
    const replay = await startChild("hello", { BENCH_ANSWER: JSON.stringify(answer) });
    let same: Figures;
    try {
      same = await measure("bare Hono, GIMO's answer", { url: `${replay.url}/`, expectStatus: 200 }, opts);
    } finally {
      await replay.stop();
    }

    let pgUrl: string | undefined;
    try {
      await adminQuery(`create database ${pgName}`);
      pgCreated = true;
      pgUrl = dbUrl(pgName);
    } catch (error) {
      process.stderr.write(`!! PostgreSQL at ${PG_ADMIN_URL} unavailable, skipping it: ${error}\n`);
    }
    if (pgUrl) rows.push(...(await benchGimo("postgres", root, repoPath, pgUrl, opts)).rows);

    const answerBytes = Buffer.byteLength(answer.body);
    report(baseline, same, answerBytes, rows, opts);
    emitSummary("api", [
      ...rows.map((r) => ({
        label: `${r.label.replace(/\s+/g, " ")} req/s vs bare Hono`,
        value: Number((r.rps / baseline.rps).toFixed(3)),
        unit: "×",
        detail: `${fmt(r.rps, 0)} vs ${fmt(baseline.rps, 0)} req/s; p99 ${fmt(r.p99, 2)} vs ${fmt(baseline.p99, 2)} ms`,
      })),
      ...rows
        .filter((r) => r.label.startsWith("GET"))
        .map((r) => ({
          label: `${r.label.replace(/\s+/g, " ")} req/s vs bare Hono sending the same answer`,
          value: Number((r.rps / same.rps).toFixed(3)),
          unit: "×",
          detail: `${fmt(r.rps, 0)} vs ${fmt(same.rps, 0)} req/s (${answerBytes}-byte body)`,
        })),
    ]);
    failed = [baseline, same, ...rows].some((r) => r.problems.length > 0);
  } finally {
    await cleanup();
  }
  if (failed) {
    process.stderr.write(
      "some measurements saw errors or unexpected statuses (marked !!): figures are suspect\n",
    );
    process.exitCode = 1;
  }
}

await main();
