import type { Command } from "commander";

/**
 * `gimo backup FILE`, `gimo restore FILE` — on the machine that runs `gimo serve`, against its
 * data dir or DATABASE_URL (no server needed) — and `gimo purge`, retention over the API (admin).
 */
export function registerOperationCommands(program: Command): void {
  program
    .command("backup")
    .description(
      "an online, consistent copy of GIMO's database to FILE (SQLite: a file; PostgreSQL: pg_dump)",
    )
    .argument("<file>", "where to write the backup (must not exist)")
    .option("--json", "print as JSON")
    .addHelpText(
      "after",
      `
Runs where the database is: GIMO_DATA_DIR (SQLite, while the server runs) or DATABASE_URL
(PostgreSQL; needs pg_dump). The vault key (GIMO_MASTER_KEY or <data dir>/vault.key) is not in the
backup: keep it apart, sealed secrets in the backup need it.`,
    )
    .action(async (file: string, opts) => {
      const { backup } = await import("../operations.ts");
      await backup(file, opts);
    });
  program
    .command("restore")
    .description("replace GIMO's database with a backup, after checking it (schema, integrity, audit chain)")
    .argument("<file>", "a file written by gimo backup")
    .option(
      "--force",
      "PostgreSQL: replace a database that already holds GIMO; SQLite: restore a backup whose audit chain is broken",
    )
    .option("--json", "print as JSON")
    .addHelpText(
      "after",
      `
Stop gimo serve (every replica, and the runners) first. SQLite: the replaced database is kept
beside it as <file>.before-restore-<time>. PostgreSQL: needs pg_restore; restores in one
transaction into an empty database (or, with --force, over the existing one).
Then start gimo serve and check: gimo audit verify.`,
    )
    .action(async (file: string, opts) => {
      const { restore } = await import("../operations.ts");
      await restore(file, opts);
    });
  program
    .command("purge")
    .description(
      "delete finished runs older than OPS_RUN_TTL days with their logs; audit events stay (admin)",
    )
    .option("--older-than <days>", "purge runs finished more than this many days ago (default: OPS_RUN_TTL)")
    .option("--dry-run", "count what would go, delete nothing")
    .option("--json", "print as JSON (PurgeResult)")
    .action(async (opts, cmd: Command) => {
      const { purge } = await import("../operations.ts");
      await purge(cmd.optsWithGlobals(), opts);
    });
}
