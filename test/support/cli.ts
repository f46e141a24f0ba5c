import { spawn } from "node:child_process";
import { resolve } from "node:path";

/**
 * The real `gimo` binary as a child process: standard input closed unless `input` is given (a
 * prompt that waited for it would hang, and the timeout would say so), output collected.
 */
export const GIMO_BIN = resolve(import.meta.dirname, "../../bin/gimo.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function gimo(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [GIMO_BIN, ...args], {
      env: opts.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(
        new Error(
          `gimo ${args.join(" ")} still running after ${opts.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
