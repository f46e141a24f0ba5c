import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import type { StorageKind } from "../../src/store/database.ts";

/** The databases every behaviour suite runs on; PostgreSQL only when global setup found it. */
export function storageKinds(): StorageKind[] {
  return inject("pgAvailable") ? ["sqlite", "postgres"] : ["sqlite"];
}

export interface TestDatabase {
  kind: StorageKind;
  /** undefined for SQLite: the file lives in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * GIMO_MASTER_KEY for every GIMO on this database (PostgreSQL keeps its vault in the database,
   * under this key); undefined for SQLite, whose vault keeps its key file in the data dir.
   */
  masterKey: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, empty database of `kind` (migrations run when GIMO starts on it). */
export async function createTestDatabase(kind: StorageKind): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), "gimo-test-"));
  if (kind === "sqlite") {
    return {
      kind,
      databaseUrl: undefined,
      dataDir,
      masterKey: undefined,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const adminUrl = inject("pgAdminUrl");
  const name = `gimo_t_${randomBytes(6).toString("hex")}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    databaseUrl: url.toString(),
    dataDir,
    masterKey: `test-master-key-${randomBytes(12).toString("hex")}`,
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
