import { resolve } from "node:path";
import { loadConfig } from "../../config.ts";
import { BackupError, backupDatabase, restoreDatabase } from "../../store/backup.ts";
import { SchemaTooNewError } from "../../store/schema-version.ts";
import { CliError } from "./exit-codes.ts";
import { c, print, printJson } from "./output.ts";
import { connect } from "./session.ts";

/** The actions of `gimo backup`, `gimo restore` and `gimo purge`. */
function target() {
  const config = loadConfig(process.env);
  return { databaseUrl: config.databaseUrl, dataDir: config.dataDir };
}

async function clearly<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw new CliError("incompatible", error.message);
    if (error instanceof BackupError) throw new CliError("error", error.message);
    throw error;
  }
}

export async function backup(file: string, opts: { json?: boolean }): Promise<void> {
  const summary = await clearly(() => backupDatabase(target(), resolve(file)));
  if (opts.json) return printJson(summary);
  print(
    `${c.green("✓")} backup of ${summary.kind} written to ${summary.file} (${kib(summary.bytes)}, schema ${summary.schema}, ${summary.events} events)`,
  );
  print("  Keep the vault key (GIMO_MASTER_KEY or <data dir>/vault.key) apart from it.");
}

export async function restore(file: string, opts: { force?: boolean; json?: boolean }): Promise<void> {
  const summary = await clearly(() =>
    restoreDatabase(target(), resolve(file), { force: opts.force === true }),
  );
  if (opts.json) printJson(summary);
  else {
    print(
      `${c.green("✓")} restored ${summary.kind} from ${summary.file} (schema ${summary.schema}, ${summary.events} events)`,
    );
    if (summary.previous) print(`  The database it replaced is kept at ${summary.previous}`);
    print(
      summary.audit.ok
        ? `  The audit chain verifies (${summary.audit.checked} events). Start gimo serve: it applies newer migrations.`
        : c.red(`  The audit chain does NOT verify: ${summary.audit.reason}`),
    );
  }
  if (!summary.audit.ok)
    throw new CliError("error", `the restored audit chain is broken: ${summary.audit.reason}`);
}

export async function purge(
  globals: { url?: string },
  opts: { olderThan?: string; dryRun?: boolean; json?: boolean },
): Promise<void> {
  let olderThanDays: number | undefined;
  if (opts.olderThan !== undefined) {
    olderThanDays = Number(opts.olderThan);
    if (!/^\d+$/.test(opts.olderThan) || olderThanDays > 36_500)
      throw new CliError("usage", `--older-than must be a whole number of days (got ${opts.olderThan})`);
  }
  const result = await (await connect(globals)).purge({
    dry_run: opts.dryRun === true,
    ...(olderThanDays !== undefined ? { older_than_days: olderThanDays } : {}),
  });
  if (opts.json) return printJson(result);
  const what = `${result.runs} finished run${result.runs === 1 ? "" : "s"} (${result.log_lines} log lines) that ended before ${result.cutoff}`;
  print(
    result.dry_run
      ? `Would purge ${what}. Run without --dry-run to delete them.`
      : `${c.green("✓")} purged ${what}; their audit events stay.`,
  );
}

function kib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
