import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * The data dir is GIMO's alone (SPEC §10): the directory is 0700 and every file GIMO keeps in it —
 * the SQLite database and its -wal/-shm, `admin.token`, the vault and its key, the credential
 * request numbers — is 0600. Files are created with those modes; at start, a data dir left with
 * looser ones (an older GIMO, a generous umask, a restored backup) is tightened: the directory
 * itself and its top-level files. Subdirectories (the runner's worktrees) are left as they are:
 * they sit behind the 0700 directory.
 */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) tighten(join(dir, entry.name), FILE_MODE);
  }
}

/**
 * Creates the SQLite file 0600 before SQLite opens it (SQLite gives its -wal and -shm the
 * database file's mode), and tightens an existing one and its sidecars.
 */
export function prepareSqliteFile(file: string): void {
  closeSync(openSync(file, "a", FILE_MODE));
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    if (existsSync(path)) tighten(path, FILE_MODE);
  }
}

function tighten(path: string, mode: number): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return; // never follow a link out of the data dir
  if ((stat.mode & 0o777) !== mode) chmodSync(path, mode);
}
