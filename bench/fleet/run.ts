/**
 * Fleet benchmark: what a fleet of replicas and runner hosts buys, and how fast it recovers.
 *
 *   npm run bench:fleet -- [--runs 1000] [--pickups 40]      (root: it builds network namespaces)
 *
 * Two topologies on the same machine, each host in its own network namespace with a private
 * PostgreSQL on the bridge (test/support/fleet.ts), the same no-op handler (test/support/handlers.ts,
 * no sleep), 4 slots per runner host:
 *   - the baseline: 1 `gimo serve` replica + 1 `gimo runner` host;
 *   - the fleet: 2 replicas + 3 runner hosts (each runner given both replicas, failing over).
 * For each:
 *   1. throughput: `--runs` runs queued first, then the runners started; runs/s = runs / (last
 *      finished_at − first started_at), from the server's own timestamps;
 *   2. pickup latency: on idle runners, one run at a time is created (alternating replicas) and
 *      its created_at → started_at measured; p50 and p99 over `--pickups` samples after 5 warm-up.
 * And for the fleet only, on a steady backlog, the time to resume full throughput (the rate over a
 * sliding second back to ≥ 80 % of the rate before) after a `kill -9` of a replica (not restarted:
 * the runners fail over to the other) and after a restart of PostgreSQL.
 *
 * Figures are ratios against the baseline measured in this same process; absolute numbers vary
 * with the machine's load.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { GimoClient } from "../../src/client/client.ts";
import { allRuns, type Fleet, startFleet } from "../../test/support/fleet.ts";
import { samplePlan } from "../../test/support/harness.ts";
import { networkUnavailable } from "../../test/support/netns.ts";
import { privatePostgresUnavailable } from "../../test/support/private-postgres.ts";
import { percentile } from "../support.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "1000" }, pickups: { type: "string", default: "40" } },
});
const RUNS = Number(values.runs);
const PICKUPS = Number(values.pickups);
const SERVER_ENV = { GIMO_LEASE_S: "5", GIMO_RETRY_BASE_S: "0", GIMO_MAX_ATTEMPTS: "20" };

interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
}

async function queue(fleet: Fleet, n: number): Promise<void> {
  const clients = fleet.replicas.map((_, i) => fleet.admin(i));
  const draft = await (clients[0] as GimoClient).createDraft({ prompt: "bench", plan: samplePlan() });
  const { approved } = await (clients[0] as GimoClient).approveDraft(draft.id);
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, (_, k) =>
        (clients[(i + k) % clients.length] as GimoClient).createRun({
          approved_id: approved.id,
          allow_parallel: true,
        }),
      ),
    );
  }
}

async function ended(fleet: Fleet): Promise<number> {
  const m = await fleet.admin(0).metrics();
  return m.runs.succeeded + m.runs.failed + m.runs.cancelled;
}

async function waitEnded(fleet: Fleet, n: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await ended(fleet).catch(() => 0)) < n) {
    if (Date.now() > deadline) throw new Error(`only ${await ended(fleet)} of ${n} runs ended`);
    await sleep(200);
  }
}

async function measure(replicas: number, runners: number): Promise<Figures> {
  const fleet = await startFleet({ replicas, runners, serverEnv: SERVER_ENV, holdRunners: true });
  try {
    await queue(fleet, RUNS);
    fleet.startRunners();
    await waitEnded(fleet, RUNS);
    const runs = await allRuns(fleet.admin(0));
    const full = runs.filter((r) => r.started_at && r.finished_at);
    const first = Math.min(...full.map((r) => Date.parse(r.started_at as string)));
    const last = Math.max(...full.map((r) => Date.parse(r.finished_at as string)));
    const perSecond = RUNS / ((last - first) / 1000);

    const draft = await fleet.admin(0).createDraft({ prompt: "pickup", plan: samplePlan() });
    const { approved } = await fleet.admin(0).approveDraft(draft.id);
    const times: number[] = [];
    for (let i = 0; i < PICKUPS + 5; i++) {
      await sleep(60 + Math.random() * 60);
      const client = fleet.admin(i % replicas);
      const run = await client.createRun({ approved_id: approved.id, allow_parallel: true });
      await waitEnded(fleet, RUNS + i + 1, 30_000);
      const view = await client.getRun(run.id);
      if (i >= 5) times.push(Date.parse(view.started_at as string) - Date.parse(view.created_at));
    }
    times.sort((a, b) => a - b);
    return { perSecond, p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  } finally {
    await fleet.close();
  }
}

/** Executions per second over the last second, from the handler's log (one line per execution). */
function rateProbe(fleet: Fleet): () => number {
  const samples: { t: number; n: number }[] = [];
  return () => {
    const n = readFileSync(fleet.execLog, "utf8").split("\n").length - 1;
    const t = performance.now();
    samples.push({ t, n });
    while (samples.length > 1 && t - (samples[0] as { t: number }).t > 1_000) samples.shift();
    const oldest = samples[0] as { t: number; n: number };
    return t > oldest.t ? ((n - oldest.n) * 1000) / (t - oldest.t) : 0;
  };
}

/** Seconds from `disrupt()` until the one-second rate is back to ≥ 80 % of the rate before it. */
async function resumeTime(
  fleet: Fleet,
  disrupt: () => Promise<void>,
): Promise<{ before: number; seconds: number }> {
  const rate = rateProbe(fleet);
  const rates: number[] = [];
  for (let i = 0; i < 16; i++) {
    rates.push(rate());
    await sleep(250);
  }
  const before = percentile(
    rates.slice(4).sort((a, b) => a - b),
    0.5,
  );
  const t0 = performance.now();
  await disrupt();
  await sleep(1_000); // let the window fill with after-disruption samples
  for (;;) {
    const now = rate();
    if (now >= 0.8 * before) return { before, seconds: (performance.now() - t0) / 1000 };
    if (performance.now() - t0 > 120_000) return { before, seconds: Number.NaN };
    await sleep(100);
  }
}

async function recovery(): Promise<{ kill: number; pgRestart: number; before: number[] }> {
  const fleet = await startFleet({ replicas: 2, runners: 3, serverEnv: SERVER_ENV, holdRunners: true });
  try {
    const backlog = RUNS * 4;
    await queue(fleet, backlog);
    fleet.startRunners();
    // the runners have started and the flow is steady: a tenth of the backlog done
    while (readFileSync(fleet.execLog, "utf8").split("\n").length - 1 < backlog / 10) await sleep(200);
    const pg = await resumeTime(fleet, () => fleet.cluster.restart());
    const killed = await resumeTime(fleet, async () => {
      (fleet.replicas[1] as Fleet["replicas"][0]).process.child.kill("SIGKILL");
    });
    return { kill: killed.seconds, pgRestart: pg.seconds, before: [killed.before, pg.before] };
  } finally {
    await fleet.close();
  }
}

const unavailable = networkUnavailable() ?? privatePostgresUnavailable();
if (unavailable) {
  console.error(`bench:fleet cannot run here: ${unavailable}`);
  process.exit(1);
}
const f = (n: number, d = 1) => n.toFixed(d);
const base = await measure(1, 1);
const fleet = await measure(2, 3);
const rec = await recovery();
console.log(`\nruns: ${RUNS}, pickups: ${PICKUPS}, handler: no-op, 4 slots per runner host\n`);
console.log("topology                     runs/s   pickup p50 ms   p99 ms   vs 1+1");
console.log(
  `1 replica + 1 runner host   ${f(base.perSecond).padStart(7)}   ${f(base.p50).padStart(13)}   ${f(base.p99).padStart(6)}   (baseline)`,
);
console.log(
  `2 replicas + 3 runner hosts ${f(fleet.perSecond).padStart(7)}   ${f(fleet.p50).padStart(13)}   ${f(fleet.p99).padStart(6)}   ${f(fleet.perSecond / base.perSecond, 2)}× runs/s, p50 ${f(fleet.p50 / base.p50, 2)}×, p99 ${f(fleet.p99 / base.p99, 2)}×`,
);
console.log(
  `\nresume full throughput (≥ 80 % of ${f(rec.before[0] ?? 0, 0)}–${f(rec.before[1] ?? 0, 0)} runs/s before): after kill -9 of a replica ${f(rec.kill)} s, after a PostgreSQL restart ${f(rec.pgRestart)} s`,
);
