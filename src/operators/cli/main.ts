#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { CommanderError } from "commander";
import { retryableKind } from "../../core/retryable-errors.ts";
import { CliError, exitCodes, exitForStatus } from "./exit-codes.ts";
import { buildProgram } from "./program.ts";

/**
 * `gimo` — the command line. Parses the command tree (program.ts), runs the command, and turns
 * whatever went wrong into one line on stderr and an exit code from the table in exit-codes.ts.
 */
const { version } = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

async function main(argv: string[]): Promise<number> {
  const program = buildProgram(version);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // help and --version end here with code 0; commander has already printed its message
    return error.exitCode === 0 ? 0 : exitCodes.usage.code;
  }
  if (error instanceof Error && error.name === "SchemaTooNewError") {
    process.stderr.write(`gimo: ${error.message}\n`);
    return exitCodes.incompatible.code;
  }
  if (error instanceof CliError) {
    process.stderr.write(`gimo: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === "GimoClientError") {
    const e = error as Error & { status: number; code: string };
    process.stderr.write(`gimo: ${e.message}${e.code && e.status ? ` (${e.status} ${e.code})` : ""}\n`);
    return exitForStatus(e.status);
  }
  const cause = (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  if (retryableKind(cause) === "unreachable" || (error as Error)?.name === "TimeoutError") {
    process.stderr.write(
      `gimo: cannot reach the server (${cause ?? (error as Error).message}): is \`gimo serve\` running, and is GIMO_URL right?\n`,
    );
    return exitCodes.unreachable.code;
  }
  process.stderr.write(`gimo: ${error instanceof Error ? error.message : String(error)}\n`);
  return exitCodes.error.code;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Commands that started servers or runners resolve only when those stopped; nothing else holds
  // the process open, so exiting here is safe and ends a keep-alive socket's idle wait.
  process.exit(code);
});
