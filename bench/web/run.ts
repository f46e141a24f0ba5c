/**
 * Web UI benchmark: what the board and the run page cost a browser.
 *
 *   npm run build:web && npm run bench:web -- [--rounds 5]
 *
 *   1. Initial JavaScript of the board: every script `web/dist/index.html` loads (entry and
 *      modulepreloads), gzip -9 — the budget is 250 KB. Lazy page chunks are listed, not counted.
 *   2. Navigation → board rendered, with 200 tasks against an empty board (the baseline), in
 *      Debian's Chromium against a real `gimo serve` on SQLite: from `page.goto("/")` to every card
 *      in the DOM. Median of the rounds.
 *   3. The run page holding 100,000 log lines: the time until all are loaded, then frame times
 *      (requestAnimationFrame deltas, 5 s) while 20 more lines arrive every 100 ms through the
 *      live stream — against the same measurement on a run with one line (the baseline).
 *
 * Each figure is a ratio against its baseline measured in this same process, so machines compare.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { launchBrowser } from "../../test/support/browser.ts";
import { createTestDatabase } from "../../test/support/databases.ts";
import { samplePlan } from "../../test/support/harness.ts";
import { processTokens, startServerProcess } from "../../test/support/processes.ts";
import { percentile } from "../support.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", short: "r", default: "5" } } });
const ROUNDS = Number(values.rounds);
const DIST = resolve(import.meta.dirname, "../../web/dist");

// ───────────────────────────── 1. initial JavaScript ─────────────────────────────

function initialJs(): { total: number; files: [string, number][]; lazy: [string, number][] } {
  const html = readFileSync(join(DIST, "index.html"), "utf8");
  const loaded = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1] as string);
  const gz = (f: string) => gzipSync(readFileSync(join(DIST, f)), { level: 9 }).byteLength;
  const files = loaded.map((f) => [f, gz(f)] as [string, number]);
  const lazy = readdirSync(join(DIST, "assets"))
    .filter((f) => f.endsWith(".js") && !loaded.includes(`assets/${f}`))
    .map((f) => [`assets/${f}`, gz(`assets/${f}`)] as [string, number]);
  return { total: files.reduce((s, [, n]) => s + n, 0), files, lazy };
}

const js = initialJs();
console.log("1. initial JavaScript of the board (gzip -9)");
for (const [f, n] of js.files) console.log(`   ${f.padEnd(40)} ${(n / 1024).toFixed(1)} KB`);
console.log(
  `   total ${(js.total / 1024).toFixed(1)} KB of a 250 KB budget (${((js.total / (250 * 1024)) * 100).toFixed(0)}%)`,
);
console.log("   lazy chunks, loaded by the pages that need them:");
for (const [f, n] of js.lazy.sort((a, b) => b[1] - a[1]))
  console.log(`     ${f.padEnd(38)} ${(n / 1024).toFixed(1)} KB`);

// ───────────────────────────── a server and a browser ─────────────────────────────

const db = await createTestDatabase("sqlite");
const tokens = processTokens();
const server = await startServerProcess(db, tokens, { env: { GIMO_LEASE_S: "600", LOG_LEVEL: "error" } });
const browser = await launchBrowser();

async function api(method: string, path: string, body?: unknown, token = tokens.admin) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  // biome-ignore lint/suspicious/noExplicitAny: a bench reads arbitrary JSON answers
  return (await res.json()) as any;
}

/** Polls the run page's line count (waitForFunction would need eval, which the UI's CSP refuses). */
async function logCountAtLeast(page: Page, n: number, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text =
      (await page
        .getByTestId("log-count")
        .textContent()
        .catch(() => "")) ?? "";
    if (Number(text.replace(/\D/g, "")) >= n) return;
    if (Date.now() > deadline) throw new Error(`the run page did not reach ${n} lines (${text})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function signedInPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 860 } });
  const who = await api("GET", "/ops/whoami");
  const session = JSON.stringify({ token: tokens.admin, who });
  await context.addInitScript(`sessionStorage.setItem("gimo.session", ${JSON.stringify(session)})`);
  return context.newPage();
}

try {
  // ───────────────────────────── 2. board ─────────────────────────────
  const empty = await api("POST", "/ops/projects", {
    name: "empty",
    repo_path: db.dataDir.replace(/\/$/, ""),
  }).catch(() => null);
  void empty;
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { execFileSync } = await import("node:child_process");
  const repo = mkdtempSync(join(tmpdir(), "gimo-bench-web-"));
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  execFileSync("git", [
    "-C",
    repo,
    "-c",
    "user.name=b",
    "-c",
    "user.email=b@b",
    "commit",
    "-q",
    "--allow-empty",
    "-m",
    "init",
  ]);
  const full = await api("POST", "/ops/projects", { name: "full", repo_path: repo });
  const none = await api("POST", "/ops/projects", { name: "none", repo_path: repo });
  for (let i = 0; i < 200; i++) {
    await api("POST", "/ops/drafts", {
      prompt: `Task ${i}: do a thing`,
      project: full.id,
      plan: samplePlan(`Task ${i}`),
    });
  }
  const boardTime = async (project: string, cards: number) => {
    const page = await signedInPage();
    const times: number[] = [];
    for (let r = 0; r < ROUNDS + 1; r++) {
      const start = performance.now();
      await page.goto(`/?project=${project}`);
      if (cards > 0)
        await page
          .locator(".task-card")
          .nth(cards - 1)
          .waitFor();
      else await page.getByText("No tasks yet").waitFor();
      if (r > 0) times.push(performance.now() - start); // the first round warms the cache
    }
    await page.context().close();
    return percentile(
      times.sort((a, b) => a - b),
      50,
    );
  };
  const base = await boardTime(none.id, 0);
  const with200 = await boardTime(full.id, 200);
  console.log("\n2. navigation → board rendered (median of", ROUNDS, "rounds)");
  console.log(`   empty board (baseline)   ${base.toFixed(0)} ms`);
  console.log(
    `   200 tasks                ${with200.toFixed(0)} ms   ${(with200 / base).toFixed(2)}× baseline`,
  );

  // ───────────────────────────── 3. run page ─────────────────────────────
  const runner = await api("POST", "/ops/runners/register", { name: "bench" }, tokens.runner);
  async function claimedRun() {
    const draft = await api("POST", "/ops/drafts", {
      prompt: "logs",
      project: none.id,
      plan: samplePlan("Logs"),
    });
    await api("POST", `/ops/drafts/${draft.id}/approve`, { auto_run: true });
    const claim = await api("POST", "/ops/runs/claim", { runner_id: runner.runner_id }, tokens.runner);
    return { id: claim.run.id as string, attempt: claim.run.attempt as number };
  }
  const postLines = (run: { id: string; attempt: number }, from: number, n: number) =>
    api(
      "POST",
      `/ops/runs/${run.id}/logs`,
      {
        runner_id: runner.runner_id,
        attempt: run.attempt,
        lines: Array.from({ length: n }, (_, i) => ({
          level: "info",
          msg: `line ${from + i} ${"x".repeat(60)}`,
        })),
      },
      tokens.runner,
    );
  const measureRun = async (lines: number) => {
    const run = await claimedRun();
    for (let i = 0; i < lines; i += 1000) await postLines(run, i, Math.min(1000, lines - i));
    const page = await signedInPage();
    const start = performance.now();
    await page.goto(`/runs/${run.id}`);
    await logCountAtLeast(page, lines, 300_000);
    const loadMs = performance.now() - start;
    await page.evaluate(() => {
      // biome-ignore lint/suspicious/noExplicitAny: the page's globals
      const w = globalThis as any;
      w.frames_ = [];
      let last = w.performance.now();
      const tick = (t: number) => {
        w.frames_.push(t - last);
        last = t;
        w.requestAnimationFrame(tick);
      };
      w.requestAnimationFrame(tick);
    });
    let sent = lines;
    const streaming = setInterval(() => {
      void postLines(run, sent, 20);
      sent += 20;
    }, 100);
    await new Promise((r) => setTimeout(r, 5_000));
    clearInterval(streaming);
    // biome-ignore lint/suspicious/noExplicitAny: the page's globals
    const frames = (await page.evaluate(() => (globalThis as any).frames_.slice(1) as number[])).sort(
      (a, b) => a - b,
    );
    await logCountAtLeast(page, sent, 60_000);
    await page.context().close();
    return {
      loadMs,
      frames: frames.length,
      p50: percentile(frames, 0.5),
      p95: percentile(frames, 0.95),
      max: frames[frames.length - 1] ?? 0,
    };
  };
  const small = await measureRun(1);
  const big = await measureRun(Number(process.env.BENCH_LINES ?? 100_000));
  console.log("\n3. run page, frame times while 200 lines/s stream in (5 s)");
  const row = (label: string, m: typeof small) =>
    `   ${label.padEnd(24)} load ${m.loadMs.toFixed(0).padStart(6)} ms   ${m.frames} frames, p50 ${m.p50.toFixed(1)} ms  p95 ${m.p95.toFixed(1)} ms  max ${m.max.toFixed(1)} ms`;
  console.log(row("1 line (baseline)", small));
  console.log(row("100,000 lines", big));
  console.log(`   frame p95 ${(big.p95 / small.p95).toFixed(2)}× baseline`);
} finally {
  await browser.close();
  server.child.kill("SIGTERM");
  await db.drop();
}
