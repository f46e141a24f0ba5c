#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runRunner } from "./runner.ts";
import { runServe } from "./serve.ts";

/**
 * `gimo` — the command line. Subcommands dispatch to their own files; each prints for humans by
 * default and exits non-zero on failure.
 */
const usage = `gimo — plan, approve, run AI coding tasks on your repositories

usage:
  gimo serve [--repo PATH] [--port N] [--host H]   start the API (and, later, the web UI and runner)
  gimo runner --server URL --token T [--concurrency N] [--labels a,b] --handler MODULE
                                                   a runner on any machine (HTTP runner protocol)
  gimo help                                        this text

Environment: see the README (GIMO_PORT, GIMO_DATA_DIR, DATABASE_URL, ORCH_*_TOKEN, …).
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve": {
      const { values } = parseArgs({
        args: rest,
        options: { repo: { type: "string" }, port: { type: "string" }, host: { type: "string" } },
        strict: true,
      });
      return runServe(values);
    }
    case "runner": {
      const { values } = parseArgs({
        args: rest,
        options: {
          server: { type: "string" },
          token: { type: "string" },
          concurrency: { type: "string" },
          labels: { type: "string" },
          name: { type: "string" },
          handler: { type: "string" },
          grace: { type: "string" },
        },
        strict: true,
      });
      return runRunner(values);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`gimo: unknown command ${command}\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`gimo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
