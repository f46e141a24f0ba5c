import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Helpers of test/escape-review.test.ts (the second review's attacks), next to support/attacker.ts.
 */

/**
 * Opens the FIFO at `parts` (path components as bytes, so names that are not UTF-8 work) under
 * `root` for writing, walking one directory at a time through /proc/self/fd (so paths longer than
 * PATH_MAX work too), and closes it shortly after: a git blocked on reading it gets EOF and goes on.
 * Answers whether a reader was there.
 */
export function unblockFifo(root: string, parts: Buffer[]): boolean {
  const at = (fd: number, name: Buffer) => Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), name]);
  let dir = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const name of parts.slice(0, -1)) {
      const next = openSync(at(dir, name), constants.O_RDONLY | constants.O_DIRECTORY);
      closeSync(dir);
      dir = next;
    }
    const fifo = openSync(at(dir, parts.at(-1) as Buffer), constants.O_WRONLY | constants.O_NONBLOCK);
    setTimeout(() => closeSync(fifo), 300);
    return true;
  } catch {
    return false; // nobody reading it (or gone): nothing to unblock
  } finally {
    closeSync(dir);
  }
}

/** How many descriptors this process (GIMO runs in the test's process) holds, sampled. */
export interface FdWatch {
  /** The most seen at once. */
  peak(): number;
  /** How many samples failed with EMFILE: the process could not open even /proc/self/fd. */
  emfile(): number;
  stop(): void;
}

export function watchFds(everyMs = 100): FdWatch {
  let peak = 0;
  let emfile = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, readdirSync("/proc/self/fd").length);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EMFILE") emfile++;
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return { peak: () => peak, emfile: () => emfile, stop: () => clearInterval(timer) };
}

/**
 * Asks GIMO's API every 200 ms from ANOTHER process (curl in a shell loop: it has descriptors of
 * its own when GIMO's process has none left) and keeps each answer's HTTP status ("000": no
 * answer within 2 s).
 */
export interface ApiWatch {
  stop(): Promise<string[]>;
}

export function watchApi(url: string, token: string): ApiWatch {
  const dir = mkdtempSync(join(tmpdir(), "gimo-review-api-"));
  const out = join(dir, "codes.txt");
  const loop = `while :; do curl -s -o /dev/null -w '%{http_code}\\n' -m 2 -H "authorization: Bearer $TOKEN" "$URL/ops/runs?limit=1" >> "$OUT"; sleep 0.2; done`;
  const child: ChildProcess = spawn("sh", ["-c", loop], {
    stdio: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TOKEN: token, URL: url, OUT: out },
  });
  return {
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await gone;
      }
      let codes: string[] = [];
      try {
        codes = readFileSync(out, "utf8").split("\n").filter(Boolean);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return codes;
    },
  };
}
