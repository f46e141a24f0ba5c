import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { StringDecoder } from "node:string_decoder";
import { OutputCap } from "./output-cap.ts";
import type { CommandResult, RunOptions } from "./sandbox-port.ts";

/**
 * Runs one process to completion under GIMO's limits; both sandbox kinds end up here.
 *
 *   spawn (own process group, stdin /dev/null, exactly the env given)
 *     ─▶ stdout+stderr into one OutputCap as chunks arrive, and to `onOutput` up to the stream cap
 *     ─▶ exit ─▶ SIGKILL whatever is left of the group ─▶ result
 *   timeout or abort ─▶ SIGTERM to the whole group ─▶ KILL_GRACE_MS later SIGKILL ─▶ result
 *
 * The process leads its own group (`detached`), so `kill(-pid)` reaches everything it started that
 * did not leave the group; under bubblewrap the sandbox's PID namespace takes the rest down with it.
 * A process that never starts (missing binary) is a result with exit code 127, not a throw.
 */
export interface ProcessPlan {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Receives a writer for lines of GIMO's own that belong in the output (the egress proxy's). */
  attach?: (write: (text: string) => void) => void;
}

export interface ProcessLimits {
  timeoutMs: number;
  outputCapBytes: number;
}

/** After SIGTERM, how long the group gets before SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** After the main process exits, how long to wait for its pipes to drain. */
const DRAIN_MS = 1_000;

export function runProcess(
  plan: ProcessPlan,
  limits: ProcessLimits,
  opts: RunOptions = {},
): Promise<CommandResult> {
  const started = performance.now();
  const cap = new OutputCap(limits.outputCapBytes);
  const stream = streamer(opts.onOutput, opts.streamCapBytes ?? limits.outputCapBytes);
  const done = (r: Omit<CommandResult, "output" | "truncated" | "durationMs">): CommandResult => ({
    ...r,
    output: cap.text(),
    truncated: cap.truncated,
    durationMs: Math.round(performance.now() - started),
  });

  if (opts.signal?.aborted) {
    cap.push(Buffer.from("aborted before it started\n"));
    return Promise.resolve(done({ exitCode: null, signal: "SIGTERM", timedOut: false }));
  }

  return new Promise((resolve) => {
    const child = spawn(plan.file, plan.args, {
      cwd: plan.cwd,
      env: plan.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let timedOut = false;
    let finished = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const timers: NodeJS.Timeout[] = [];

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killGroup("SIGTERM");
      timers.push(setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS));
    };
    const onAbort = () => stop();
    const finish = (result: CommandResult) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener("abort", onAbort);
      stream.end();
      resolve(result);
    };

    timers.push(
      setTimeout(() => {
        timedOut = true;
        stream.note(`\n…[timed out after ${limits.timeoutMs} ms]…\n`);
        stop();
      }, limits.timeoutMs),
    );
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    const onData = (which: "out" | "err") => (chunk: Buffer) => {
      cap.push(chunk);
      stream.write(which, chunk);
    };
    plan.attach?.((text) => {
      if (!finished) onData("err")(Buffer.from(text));
    });
    child.stdout.on("data", onData("out"));
    child.stderr.on("data", onData("err"));

    child.on("error", (error) => {
      cap.push(Buffer.from(`${error.message}\n`));
      finish(done({ exitCode: 127, signal: null, timedOut }));
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // Leftovers (a backgrounded server, a forgotten watcher) die with the command.
      killGroup("SIGKILL");
      timers.push(setTimeout(() => child.emit("close", code, signal), DRAIN_MS));
    });
    child.on("close", () => {
      child.stdout.destroy();
      child.stderr.destroy();
      const e = exit ?? { code: null, signal: null };
      finish(done({ exitCode: e.code, signal: e.signal, timedOut }));
    });
  });
}

/** Forwards decoded output to `onOutput` until `limit` bytes have gone, then says so once. */
function streamer(onOutput: ((chunk: string) => void) | undefined, limit: number) {
  const decoders = { out: new StringDecoder("utf8"), err: new StringDecoder("utf8") };
  let sent = 0;
  let capped = false;
  const emit = (text: string) => {
    if (!onOutput || text === "") return;
    try {
      onOutput(text);
    } catch {
      // a failing listener must not break the command
    }
  };
  return {
    write(which: "out" | "err", chunk: Buffer) {
      if (capped) return;
      if (sent + chunk.length > limit) {
        capped = true;
        emit(decoders[which].write(chunk.subarray(0, Math.max(0, limit - sent))));
        emit(`\n…[live output capped at ${limit} bytes; the result keeps the head and the tail]…\n`);
        return;
      }
      sent += chunk.length;
      emit(decoders[which].write(chunk));
    },
    note(text: string) {
      emit(text);
    },
    end() {
      if (!capped) {
        emit(decoders.out.end());
        emit(decoders.err.end());
      }
    },
  };
}
