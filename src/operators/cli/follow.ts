import type { GimoClient } from "../../client/client.ts";
import { CliError } from "./exit-codes.ts";
import { c, print, printJson } from "./output.ts";
import { renderOutcome, renderRun, runStatusText } from "./render.ts";

/**
 * Follows one run over its event stream (the client resumes it with Last-Event-ID after a dropped
 * connection) from its first event to its terminal one, printing log lines and step changes as
 * they come; then the outcome. The process's exit code is the run's: 0 succeeded, 10 failed,
 * 11 cancelled. With `json`, each event is one JSON line on stdout.
 */
interface LogLine {
  level: string;
  msg: string;
}

export async function follow(
  client: GimoClient,
  runId: string,
  opts: { json?: boolean; lines?: boolean; steps?: boolean },
): Promise<void> {
  for await (const message of client.runEvents(runId)) {
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ id: message.id, event: message.event, data: message.data })}\n`,
      );
      continue;
    }
    const data = (message.data ?? {}) as { data?: Record<string, unknown>; lines?: LogLine[] };
    if (message.event === "run.logs" && opts.lines !== false) {
      for (const line of data.lines ?? []) {
        if (line.level === "debug") continue;
        const text =
          line.level === "error" ? c.red(line.msg) : line.level === "warn" ? c.yellow(line.msg) : line.msg;
        print(`  ${text}`);
      }
    } else if (message.event === "run.step" && opts.steps) {
      print(c.cyan(`▸ step ${String(data.data?.step_id)} ${String(data.data?.status)}`));
    } else if (message.event !== "run.logs" && message.event !== "run.step") {
      print(c.dim(`· ${message.event}`));
    }
  }
  const run = await client.getRun(runId);
  if (opts.json) printJson(run);
  else
    print(
      `\n${opts.steps ? renderRun(run) : `${c.bold(`Run ${run.id}`)} ${runStatusText(run)}\n${renderOutcome(run)}`}`,
    );
  if (run.status === "failed")
    throw new CliError(
      "runFailed",
      `run ${run.id} failed${run.error ? `: ${run.error.code} — ${run.error.message}` : ""}`,
    );
  if (run.status === "cancelled") throw new CliError("runCancelled", `run ${run.id} was cancelled`);
}
