/** The queue bench's measurements: a timed drain, sequential pickup samples, RSS, progress notes. */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { percentile } from "../support.ts";
import { clockMs } from "./handler.ts";
import type { Worker } from "./processes.ts";
import { fmt, type Pickup, type Throughput } from "./report.ts";

/** How often completion is polled during a throughput phase: the end time's resolution. */
const POLL_MS = 25;
/** A throughput phase that has not finished by then, or made no progress for STALL_MS, failed. */
const PHASE_TIMEOUT_MS = 120_000;
const STALL_MS = 15_000;

/**
 * Starts a worker on an already-filled queue and times it until `done()` says every job finished.
 * `done` is polled every POLL_MS; the start is the moment the worker process says it is ready.
 */
export async function timeDrain(
  jobs: number,
  concurrency: number,
  startWorker: () => Promise<Worker>,
  progress: () => Promise<{ finished: number; failed: number }>,
): Promise<Throughput> {
  const worker = await startWorker();
  const t0 = performance.now();
  const problems: string[] = [];
  let state = { finished: 0, failed: 0 };
  let seconds: number;
  let lastProgress = t0;
  try {
    for (;;) {
      const before = state.finished + state.failed;
      state = await progress();
      const now = performance.now();
      if (state.finished + state.failed >= jobs) break;
      if (state.finished + state.failed > before) lastProgress = now;
      if (now - t0 > PHASE_TIMEOUT_MS || now - lastProgress > STALL_MS) {
        const why = now - t0 > PHASE_TIMEOUT_MS ? "timed out" : `stalled for ${STALL_MS / 1000} s`;
        problems.push(`${why} with ${state.finished}/${jobs} done`);
        break;
      }
      await sleep(POLL_MS);
    }
    seconds = (performance.now() - t0) / 1000;
  } finally {
    await worker.stop();
  }
  if (state.failed > 0) problems.push(`${state.failed} jobs failed`);
  return { concurrency, jobs, seconds, perSecond: state.finished / seconds, problems };
}

/**
 * Sequential pickup samples on an idle worker: enqueue, wait for the handler to start, pause (so the
 * worker finishes and is back to waiting), repeat. The first `warmup` samples are not counted.
 */
export async function timePickups(
  worker: Worker,
  samples: number,
  enqueue: () => Promise<string>,
  warmup = 10,
): Promise<Pickup> {
  const times: number[] = [];
  const problems: string[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    await sleep(40 + Math.random() * 40);
    const id = await enqueue();
    const enqueued = clockMs();
    try {
      const started = await worker.started(id);
      if (i >= warmup) times.push(started - enqueued);
    } catch (error) {
      problems.push(String(error));
      if (problems.length > 3) break;
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    samples: times,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    problems,
  };
}

/** Resident set size of a process, in KiB (Linux: VmRSS of /proc/<pid>/status). */
export function rssKib(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const benchStart = performance.now();

export function note(msg: string): void {
  process.stderr.write(`  [${fmt((performance.now() - benchStart) / 1000, 1).padStart(5)} s] ${msg}\n`);
}
