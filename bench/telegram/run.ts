/**
 * `npm run bench:telegram` — the Telegram operator's latency and throughput, against a fake Bot
 * API over real HTTP (the same one the test suite uses) and a scripted planner model.
 *
 *   /task → plan      from a `/task` update being queued at the Bot API to the plan message (with
 *                     its buttons) arriving there: poll wake-up, planner call, draft, chat message
 *   end → outcome     from a run's end being committed to the outcome message (with the link)
 *                     arriving: the outbox following the event log
 *   updates/s         a burst of N `/help` and of N `/status` updates handled by one bot process
 *
 * `/task → plan` is also compared with the planner alone (`planning.generate`, what
 * `POST /ops/generate` runs), so the ratio is what Telegram adds on top of planning.
 * Baseline, in the same process against the same fake server: a bare grammY bot (no GIMO) whose
 * `/help` handler replies at once — its round trip and its updates/s. Ratios are GIMO / bare.
 * SQLite, and PostgreSQL when reachable (GIMO_BENCH_PG_URL).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bot } from "grammy";
import { loadConfig } from "../../src/config.ts";
import { systemPrincipal } from "../../src/core/roles.ts";
import { DEMO_PLAN } from "../../src/demo/model-script.ts";
import { createGimo } from "../../src/gimo.ts";
import { startScriptedModel } from "../../src/llm/scripted-server.ts";
import { createLogger } from "../../src/log.ts";
import { parseAllowedUsers } from "../../src/operators/telegram/config.ts";
import { startTelegram } from "../../src/operators/telegram/poller.ts";
import { type FakeBotApi, startFakeBotApi } from "../../test/support/fake-bot-api.ts";
import { adminQuery, createRepo, dbUrl, percentile } from "../support.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const BURST = Number(process.env.BENCH_BURST ?? 300);
const USER = { id: 100 };

const at = (xs: number[], q: number) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    q,
  );
const median = (xs: number[]) => at(xs, 0.5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setImmediate(r));
  }
}

/** Sends `/help` to chat `chat` and waits for the answer; the round trip in ms. */
async function roundTrip(api: FakeBotApi, chat: number, text: string, match: (t: string) => boolean) {
  const before = api.sent(chat).length;
  const t0 = performance.now();
  api.sendText(USER, chat, text);
  await waitFor(() =>
    api
      .sent(chat)
      .slice(before)
      .find((m) => match(String(m.params.text ?? ""))),
  );
  return performance.now() - t0;
}

async function burst(api: FakeBotApi, chat: number, text: string, n: number) {
  const before = api.sent(chat).length;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) api.sendText(USER, chat, text);
  await waitFor(() => (api.sent(chat).length - before >= n ? true : undefined), 120_000);
  return (n * 1000) / (performance.now() - t0);
}

async function bare() {
  const api = await startFakeBotApi();
  const bot = new Bot(api.token, { client: { apiRoot: api.url } });
  bot.command("help", (ctx) => ctx.reply("help"));
  void bot.start({ timeout: 1 });
  await sleep(300);
  const rtts: number[] = [];
  for (let i = 0; i < SAMPLES; i++) rtts.push(await roundTrip(api, 1, "/help", () => true));
  const rate = await burst(api, 2, "/help", BURST);
  await bot.stop();
  await api.close();
  return { rtt: median(rtts), rate };
}

async function gimoRow(kind: "sqlite" | "postgres") {
  const root = mkdtempSync(join(tmpdir(), "gimo-bench-tg-"));
  const dbName = `gimo_bench_${Math.random().toString(36).slice(2, 10)}`;
  if (kind === "postgres") await adminQuery(`CREATE DATABASE ${dbName}`);
  const model = await startScriptedModel({ respond: () => ({ json: DEMO_PLAN }) });
  const api = await startFakeBotApi();
  const config = loadConfig(
    {
      GIMO_DATA_DIR: join(root, "data"),
      ...(kind === "postgres" ? { DATABASE_URL: dbUrl(dbName), GIMO_MASTER_KEY: "b".repeat(64) } : {}),
      GIMO_EMBEDDED_RUNNERS: "1",
      ORCH_ADMIN_TOKEN: "adm_bench_token_0123456789",
    },
    { port: 0 },
  );
  // Runs end at once, with a branch and a link, so the outbox is what is measured.
  const gimo = await createGimo(config, {
    logger: createLogger("silent"),
    repoPath: createRepo(root),
    runHandler: () => async (job) => ({
      status: "succeeded",
      result: {
        branch: `task/${job.run.task_id}`,
        pushed: true,
        commits: [],
        link: `https://git.example.com/t/${job.run.task_id}`,
      },
    }),
  });
  const { services } = gimo;
  await services.providers.put(systemPrincipal, {
    planner: { type: "openai_compat", base_url: model.url, model: "scripted" },
    executor: { type: "openai_compat", base_url: model.url, model: "scripted" },
  } as never);
  const tg = await startTelegram(
    services,
    { token: api.token, apiRoot: api.url, allowed: parseAllowedUsers(`${USER.id}:operator`), pollSeconds: 1 },
    gimo.logger,
  );
  try {
    await roundTrip(api, 9, "/help", () => true); // warm: lease, getMe
    const help: number[] = [];
    for (let i = 0; i < SAMPLES; i++) help.push(await roundTrip(api, 9, "/help", () => true));
    const task: number[] = [];
    const outcome: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const chat = 1000 + i;
      task.push(await roundTrip(api, chat, `/task fix add ${i}`, (t) => t.includes("Plan (revision 1)")));
      const plan = api.sent(chat).find((m) => String(m.params.text).includes("Plan (revision 1)"));
      const markup = plan?.params.reply_markup as
        | { inline_keyboard: { callback_data: string }[][] }
        | undefined;
      const data = markup?.inline_keyboard[0]?.[1]?.callback_data;
      api.press(USER, chat, String(data));
      const msg = await waitFor(() =>
        api.sent(chat).find((m) => String(m.params.text).includes("succeeded.")),
      );
      const runId = /Run (r_\w+)/.exec(String(msg.params.text))?.[1] ?? "";
      const run = await services.runs.get(runId);
      outcome.push(msg.at - Date.parse(run.finished_at ?? ""));
    }
    // The planner alone, as POST /ops/generate runs it: what /task costs before Telegram is involved.
    const generate: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      await services.planning.generate(systemPrincipal, { prompt: `direct ${i}` });
      generate.push(performance.now() - t0);
    }
    const helpRate = await burst(api, 50, "/help", BURST);
    const statusRate = await burst(api, 1000, "/status", BURST);
    return { help: median(help), task, outcome, generate, helpRate, statusRate };
  } finally {
    await tg.stop();
    await gimo.close();
    await api.close();
    await model.close();
    if (kind === "postgres")
      await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
}

const base = await bare();
console.log(
  `bare grammY /help: round trip p50 ${base.rtt.toFixed(1)} ms, ${base.rate.toFixed(0)} updates/s (baseline)`,
);
for (const kind of ["sqlite", "postgres"] as const) {
  let r: Awaited<ReturnType<typeof gimoRow>>;
  try {
    r = await gimoRow(kind);
  } catch (error) {
    console.log(`${kind}: skipped (${String(error).split("\n")[0]})`);
    continue;
  }
  const p = (xs: number[], q: number) => at(xs, q).toFixed(1);
  console.log(
    [
      `${kind}:`,
      `  /help round trip p50 ${r.help.toFixed(1)} ms (${(r.help / base.rtt).toFixed(2)}× bare)`,
      `  /task → plan message p50 ${p(r.task, 0.5)} ms, p95 ${p(r.task, 0.95)} ms (${(median(r.task) / median(r.generate)).toFixed(2)}× the planner alone, ${median(r.generate).toFixed(1)} ms)`,
      `  run end → outcome message p50 ${p(r.outcome, 0.5)} ms, p95 ${p(r.outcome, 0.95)} ms`,
      `  updates/s: /help ${r.helpRate.toFixed(0)} (${(r.helpRate / base.rate).toFixed(2)}× bare), /status ${r.statusRate.toFixed(0)} (${(r.statusRate / base.rate).toFixed(2)}× bare)`,
    ].join("\n"),
  );
}
process.exit(0);
