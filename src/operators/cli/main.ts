#!/usr/bin/env node
import { parseArgs } from "node:util";

/**
 * `gimo` — the command line. Subcommands dispatch to their own files; each prints for humans by
 * default and exits non-zero on failure.
 */
const usage = `gimo — plan, approve, run AI coding tasks on your repositories

usage:
  gimo serve [--repo PATH] [--port N] [--host H]   start the API (and, later, the web UI and runner)
  gimo runner --server URL --token T [--concurrency N] [--labels a,b] [--work-dir D] [--handler MODULE]
                                                   a runner on any machine (HTTP runner protocol)
  gimo run-task "…" --repo PATH [--yes] [--test CMD]
                                                   plan → approve on the terminal → run → link, in one process
  gimo demo                                        the whole pipeline offline on a throwaway repository
  gimo mcp [--url URL] [--token T]                 MCP server on stdio for coding agents (GIMO_URL, GIMO_TOKEN)
  gimo telegram                                    the Telegram bot alone (TELEGRAM_BOT_TOKEN; same database as serve)
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
      const { runServe } = await import("./serve.ts");
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
          "work-dir": { type: "string" },
        },
        strict: true,
      });
      // Loaded on demand: a runner process does not carry the server's modules.
      const { runRunner } = await import("./runner.ts");
      return runRunner({ ...values, workDir: values["work-dir"] });
    }
    case "run-task": {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { repo: { type: "string" }, yes: { type: "boolean" }, test: { type: "string" } },
        allowPositionals: true,
        strict: true,
      });
      const prompt = positionals.join(" ").trim();
      if (!prompt || !values.repo)
        throw new Error('usage: gimo run-task "what to do" --repo PATH [--yes] [--test "npm test"]');
      const { loadConfig } = await import("../../config.ts");
      const { askOnTerminal, runPipeline } = await import("./run-task.ts");
      const out = { write: (t: string) => process.stdout.write(t), ask: askOnTerminal };
      const { run } = await runPipeline(
        loadConfig(),
        { prompt, repoPath: values.repo, yes: values.yes === true, testCommand: values.test },
        out,
      );
      return run?.status === "succeeded" ? 0 : 1;
    }
    case "mcp": {
      const { values } = parseArgs({
        args: rest,
        options: {
          url: { type: "string" },
          token: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
      });
      const { MCP_USAGE, runMcp } = await import("./mcp.ts");
      if (values.help) {
        process.stdout.write(MCP_USAGE);
        return 0;
      }
      return runMcp(values);
    }
    case "telegram": {
      parseArgs({ args: rest, options: {}, strict: true });
      const { runTelegram } = await import("../telegram/run.ts");
      return runTelegram();
    }
    case "demo": {
      const { runDemo } = await import("./demo.ts");
      return runDemo({ write: (t) => process.stdout.write(t) });
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
