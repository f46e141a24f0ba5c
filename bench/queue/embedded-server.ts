/**
 * `gimo serve` with its runner embedded, for the queue bench (forked by processes.ts): the same
 * composition as the CLI's serve (createGimo + listen), minus the executor — its embedded runner
 * runs the bench's no-op handler, calling the services in-process (LocalRunnerApi) as an embedded
 * runner does in production. That is the shape of a pg-boss or graphile-worker worker: a library
 * in the application's process, talking to the database directly. (A `gimo runner` on another
 * machine adds an HTTP hop per run: the bench measures that too.)
 *
 * The runner is started and stopped by the bench over IPC, so a throughput phase is timed from the
 * moment the runner is working, like the other workers:
 *   → {start: C, report: boolean}   ← {ready: true} | {failed}
 *   → "stop"                        ← {stopped: true}
 * and, while reporting, ← {started: run_id, at} per run (handler.ts's StartReport).
 */
import { loadConfig } from "../../src/config.ts";
import { LocalRunnerApi } from "../../src/embedded/runner-api.ts";
import { createGimo, listen } from "../../src/gimo.ts";
import { Runner } from "../../src/runner/runner.ts";
import { clockMs, type StartReport } from "./handler.ts";

export type EmbeddedCommand = { start: number; report: boolean } | "stop";
export type EmbeddedMessage = { url: string } | { ready: true } | { failed: string } | { stopped: true };

const send = (msg: EmbeddedMessage | StartReport) => process.send?.(msg);

const gimo = await createGimo(loadConfig({ ...process.env, GIMO_EMBEDDED_RUNNERS: "0" }, { port: 0 }), {
  repoPath: process.argv[2],
});
const server = await listen(gimo);
let runner: Runner | undefined;

process.on("message", async (command: EmbeddedCommand) => {
  if (command === "stop") {
    await runner?.stop(2_000);
    runner = undefined;
    send({ stopped: true });
    return;
  }
  try {
    const report = command.report;
    runner = new Runner({
      api: new LocalRunnerApi(gimo.services),
      handler: async (job) => {
        if (report) send({ started: job.run.id, at: clockMs() });
        return { status: "succeeded", result: { pushed: false, commits: [] } };
      },
      name: `embedded-bench-${command.start}`,
      concurrency: command.start,
      logger: gimo.logger,
    });
    await runner.start();
    send({ ready: true });
  } catch (error) {
    send({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});

const shutdown = async () => {
  await runner?.stop(2_000);
  await server.close();
  await gimo.close();
  process.exit(0);
};
process.once("SIGTERM", () => void shutdown());
process.once("disconnect", () => void shutdown());
send({ url: server.url });
