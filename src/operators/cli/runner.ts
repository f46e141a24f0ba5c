import { hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadRunnerConfig } from "../../config.ts";
import { startTracing, tracer, tracingConfig } from "../../core/tracing.ts";
import { createLogger } from "../../log.ts";
import { createExecutor } from "../../runner/executor.ts";
import { remoteExecutorDeps } from "../../runner/executor-deps.ts";
import type { RunHandler } from "../../runner/handler.ts";
import { HttpRunnerApi } from "../../runner/http-api.ts";
import { Runner } from "../../runner/runner.ts";

/**
 * `gimo runner --server URL --token T [--concurrency N] [--labels a,b] [--handler MODULE]`:
 * a runner on any machine, speaking only the HTTP runner protocol with a `runner` token.
 * `--server` may be repeated or comma-separated (so may GIMO_URL): replicas of one database, tried
 * in order when a call fails at the connection level (runner/http-api.ts).
 * SIGTERM/SIGINT stop it gracefully: no new claims, current work finishes or is handed back.
 *
 * The work of a run is the built-in executor (worktree, sandbox, the executor model from the claim,
 * its `${VAR}` keys resolved from this machine's environment), or `--handler MODULE`, a module
 * whose `handler` export is a RunHandler.
 */
export async function runRunner(args: {
  server?: string | string[];
  token?: string;
  concurrency?: string;
  labels?: string;
  name?: string;
  handler?: string;
  grace?: string;
  workDir?: string;
}): Promise<number> {
  const config = loadRunnerConfig(process.env);
  const servers = serverUrls(args.server ?? config.servers);
  const token = args.token ?? config.token;
  if (!token) throw new Error("a runner token is needed: --token T, or GIMO_TOKEN / ORCH_RUNNER_TOKEN");
  const concurrency = Number(args.concurrency ?? "1");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new Error("--concurrency must be 1-64");
  const handler = args.handler
    ? await loadHandler(args.handler)
    : createExecutor(
        remoteExecutorDeps({
          workDir: resolve(args.workDir ?? join(config.dataDir, "runner-work")),
          sandbox: config.sandbox,
          sandboxUid: config.sandboxUid,
          sandboxCgroup: config.sandboxCgroup,
          // the executor's `${VAR}` keys resolve from this machine's environment
          env: process.env,
          gitIdentity: config.gitIdentity,
          warn: (m) => process.stderr.write(`warning: ${m}\n`),
        }),
      );
  const logger = createLogger(config.logLevel);
  logger.addSecret(token);
  await startTracing(tracingConfig(process.env, "gimo-runner"));
  const runner = new Runner({
    api: new HttpRunnerApi(servers, token),
    handler,
    name: args.name ?? `${hostname()}:${process.pid}`,
    labels: args.labels
      ? args.labels
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean)
      : [],
    concurrency,
    logger,
  });
  await runner.start();
  process.stdout.write(
    `runner ${runner.id} working for ${servers.join(", ")} (concurrency ${concurrency})\n`,
  );
  const grace = Number(args.grace ?? "25") * 1000;
  return new Promise((done) => {
    const stop = async (signal: string) => {
      logger.info("runner stopping", { signal });
      await runner.stop(grace);
      await tracer().shutdown();
      done(0);
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
  });
}

/** Server URLs from repeated and/or comma-separated values, in order, without blanks or repeats. */
export function serverUrls(value: string | string[]): string[] {
  const urls = (typeof value === "string" ? [value] : value)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error("--server needs a URL");
  return [...new Set(urls)];
}

async function loadHandler(path: string): Promise<RunHandler> {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
  const mod = (await import(url)) as { handler?: RunHandler };
  if (typeof mod.handler !== "function") throw new Error(`${path} does not export a \`handler\` function`);
  return mod.handler;
}
