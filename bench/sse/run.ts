/**
 * SSE fan-out: how event delivery holds up with many subscribers on `/ops/events`.
 *
 *   npm run bench:sse -- [--runs 40] [--many 1000] [--few 10]
 *
 * One `gimo serve` on SQLite and one `gimo runner` with the queue bench's no-op handler (child
 * processes, bench/queue/processes.ts). For each subscriber count (`--few`, then `--many`) this
 * process opens that many event streams (node:http, one socket each, operator token), waits until
 * all answer 200, reads the server's RSS, queues `--runs` runs and waits until every subscriber
 * has seen every run's `run.succeeded`. Delivery latency of a frame = its arrival here minus the
 * event's `ts` (the server's clock at commit; same machine, millisecond resolution), over every
 * frame of every subscriber. The server's RSS is read again at the end of the phase. The figures
 * to track are the ratios many/few from the same run. The subscribers share this one process, so
 * at 1,000 part of the latency is this process parsing 1,000 streams.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Api, approvedPlans, queueRuns } from "../queue/gimo-api.ts";
import { rssKib } from "../queue/measure.ts";
import { children, startGimoRunner, startGimoServer } from "../queue/processes.ts";
import { createRepo, emitSummary, percentile, type SummaryRow } from "../support.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "40" },
    many: { type: "string", default: "1000" },
    few: { type: "string", default: "10" },
  },
});
const runs = Number(values.runs);
const counts = [Number(values.few), Number(values.many)];

interface Subscriber {
  latencies: number[];
  succeeded: number;
  close(): void;
}

function subscribe(url: string, token: string): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const sub: Subscriber = { latencies: [], succeeded: 0, close: () => req.destroy() };
    const req = request(
      `${url}/ops/events`,
      { agent: false, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) return reject(new Error(`/ops/events → ${res.statusCode}`));
        res.setEncoding("utf8");
        let buffer = "";
        res.on("data", (chunk: string) => {
          const now = Date.now();
          buffer += chunk;
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf("\n\n");
            const data = frame
              .split("\n")
              .filter((l) => l.startsWith("data:"))
              .map((l) => l.slice(5).trimStart())
              .join("\n");
            if (!data) continue;
            const event = JSON.parse(data) as { type?: string; ts?: string };
            if (event.ts) sub.latencies.push(now - Date.parse(event.ts));
            if (event.type === "run.succeeded") sub.succeeded += 1;
          }
        });
        resolve(sub);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

interface Phase {
  subscribers: number;
  p50: number;
  p99: number;
  frames: number;
  rssIdleMiB: number;
  rssEndMiB: number;
  seconds: number;
}

async function phase(
  api: Api,
  serverPid: number,
  token: string,
  approved: string[],
  n: number,
): Promise<Phase> {
  const subs: Subscriber[] = [];
  try {
    for (let i = 0; i < n; i += 50) {
      const batch = Math.min(50, n - i);
      subs.push(...(await Promise.all(Array.from({ length: batch }, () => subscribe(api.url, token)))));
    }
    await new Promise((r) => setTimeout(r, 500));
    const rssIdleMiB = rssKib(serverPid) / 1024;
    const started = performance.now();
    await queueRuns(api, approved, runs, 4);
    const deadline = Date.now() + 120_000;
    while (subs.some((s) => s.succeeded < runs)) {
      if (Date.now() > deadline) {
        const behind = subs.filter((s) => s.succeeded < runs).length;
        throw new Error(`${behind} of ${n} subscribers had not seen all ${runs} runs end after 120 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const rssEndMiB = rssKib(serverPid) / 1024;
    const all = subs.flatMap((s) => s.latencies).sort((a, b) => a - b);
    return {
      subscribers: n,
      p50: percentile(all, 0.5),
      p99: percentile(all, 0.99),
      frames: all.length,
      rssIdleMiB,
      rssEndMiB,
      seconds,
    };
  } finally {
    for (const s of subs) s.close();
  }
}

const root = mkdtempSync(join(tmpdir(), "gimo-bench-sse-"));
const stopAll = () => {
  for (const child of children) child.kill("SIGKILL");
};
process.once("SIGINT", () => {
  stopAll();
  rmSync(root, { recursive: true, force: true });
  process.exit(130);
});
try {
  const repo = createRepo(root);
  const server = await startGimoServer(join(root, "data"), undefined, repo);
  const runner = await startGimoRunner(server, 4, false);
  try {
    const api = new Api(server);
    const approved = await approvedPlans(api, Math.max(1, Math.ceil(runs / 5)));
    const phases: Phase[] = [];
    for (const n of counts) {
      process.stderr.write(`  ${n} subscribers, ${runs} runs…\n`);
      phases.push(await phase(api, server.pid, server.tokens.operator, approved, n));
      await new Promise((r) => setTimeout(r, 1_000)); // let the closed streams go
    }
    const [few, many] = phases as [Phase, Phase];
    const out = [
      "",
      `SSE fan-out — ${runs} runs per phase, SQLite, node ${process.version}`,
      "",
      "subscribers  frames    p50 ms  p99 ms  drain s  server RSS idle → end (MiB)",
      ...phases.map(
        (p) =>
          `${String(p.subscribers).padStart(11)}  ${String(p.frames).padStart(7)}  ${p.p50.toFixed(0).padStart(7)}  ${p.p99.toFixed(0).padStart(6)}  ${p.seconds.toFixed(1).padStart(7)}  ${p.rssIdleMiB.toFixed(0)} → ${p.rssEndMiB.toFixed(0)}`,
      ),
      "",
      `${many.subscribers} vs ${few.subscribers}: p50 ${(many.p50 / Math.max(1, few.p50)).toFixed(1)}×, p99 ${(many.p99 / Math.max(1, few.p99)).toFixed(1)}×, drain ${(many.seconds / few.seconds).toFixed(1)}×, RSS at end ${(many.rssEndMiB / few.rssEndMiB).toFixed(2)}×`,
      "",
    ];
    process.stdout.write(`${out.join("\n")}\n`);
    emitSummary(
      "sse",
      phases
        .flatMap((p): SummaryRow[] => [
          { label: `SSE ${p.subscribers} subscribers: delivery p50`, value: p.p50, unit: "ms" },
          { label: `SSE ${p.subscribers} subscribers: delivery p99`, value: p.p99, unit: "ms" },
          {
            label: `SSE ${p.subscribers} subscribers: server RSS at end`,
            value: Math.round(p.rssEndMiB),
            unit: "MiB",
          },
        ])
        .concat([
          {
            label: `SSE drain time, ${many.subscribers} ÷ ${few.subscribers} subscribers`,
            value: many.seconds / few.seconds,
            unit: "×",
            detail: `${many.seconds.toFixed(1)} vs ${few.seconds.toFixed(1)} s for ${runs} runs`,
          },
        ]),
    );
  } finally {
    await runner.stop();
    await server.stop();
  }
} finally {
  stopAll();
  rmSync(root, { recursive: true, force: true });
}
