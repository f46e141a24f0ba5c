import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../../config.ts";
import { startTracing, tracer, tracingConfig } from "../../core/tracing.ts";
import { createGimo, listen } from "../../gimo.ts";
import type { RunHandler } from "../../runner/handler.ts";
import { SERVER_PID_FILE } from "../../store/backup.ts";
import { startTelegramIfConfigured } from "../telegram/run.ts";

/** `gimo serve`: the API on GIMO_HOST:GIMO_PORT, stopped cleanly by SIGINT/SIGTERM. */
export async function runServe(args: { repo?: string; port?: string; host?: string }): Promise<number> {
  const overrides: Record<string, unknown> = {};
  if (args.port !== undefined) {
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port must be 0-65535 (got ${args.port})`);
    overrides.port = port;
  }
  if (args.host !== undefined) overrides.host = args.host;
  const config = loadConfig(process.env, overrides);
  // Before the app is built: its request middleware is installed only when tracing is on.
  await startTracing(tracingConfig(process.env, "gimo"));
  const gimo = await createGimo(config, {
    repoPath: args.repo ? resolve(args.repo) : undefined,
    runHandler: (services) => {
      // The executor (sandbox, workspaces, agent, forges, model SDKs) loads with the first claimed
      // run: an idle server does not hold it (bench/rss).
      let executor: Promise<RunHandler> | undefined;
      const load = async () => {
        const [{ createExecutor }, { embeddedExecutorDeps }] = await Promise.all([
          import("../../runner/executor.ts"),
          import("../../embedded/executor-deps.ts"),
        ]);
        return createExecutor(embeddedExecutorDeps(services, (m) => process.stderr.write(`warning: ${m}\n`)));
      };
      const handler: RunHandler = async (job, ctx) => {
        executor ??= load();
        return (await executor)(job, ctx);
      };
      handler.usesExecutor = true;
      return handler;
    },
  });
  const server = await listen(gimo);
  const { logger } = gimo;
  // Tells `gimo restore` that this data dir is in use (store/backup.ts runningServer).
  const pidFile = join(config.dataDir, SERVER_PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  const telegram = await startTelegramIfConfigured(gimo);
  if (gimo.bootstrapToken) {
    process.stdout.write(
      `\nFirst start: an admin token was created. It is shown once, here, and saved to ${config.dataDir}/admin.token (0600):\n\n  ${gimo.bootstrapToken}\n\n`,
    );
  }
  process.stdout.write(
    `GIMO listening on ${server.url} (storage: ${gimo.services.ctx.store.kind} ${gimo.services.ctx.store.location})\n`,
  );
  logger.info("listening", { url: server.url, storage: gimo.services.ctx.store.kind });
  if (config.embeddedRunners > 0 && !(await gimo.services.providers.stored()).executor) {
    process.stdout.write(
      "No executor model yet: plans of command and test steps run now; plans with agent steps wait until one is configured (PUT /ops/provider — see the README).\n",
    );
  }

  return new Promise((done) => {
    const stop = async (signal: string) => {
      logger.info("stopping", { signal });
      await server.close();
      await telegram?.stop();
      await gimo.close();
      await tracer().shutdown();
      removeOwnPidFile(pidFile);
      done(0);
    };
    process.once("SIGINT", () => void stop("SIGINT"));
    process.once("SIGTERM", () => void stop("SIGTERM"));
  });
}

function removeOwnPidFile(file: string): void {
  try {
    if (readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}
