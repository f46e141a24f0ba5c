import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { pgConnection } from "./backup.ts";

/** How `gimo backup` and `gimo restore` hand DATABASE_URL to pg_dump and pg_restore. */
describe("pgConnection: DATABASE_URL as PG* variables", () => {
  // The variables are built on the process's environment: none of the machine's may show through.
  beforeEach(() => {
    for (const name of ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"]) vi.stubEnv(name, undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const env = (databaseUrl: string) => {
    const { env, database } = pgConnection({ databaseUrl, dataDir: "/nowhere" });
    return { host: env.PGHOST, port: env.PGPORT, user: env.PGUSER, password: env.PGPASSWORD, database };
  };

  it.each([
    [
      "postgres://gimo:s%3Acret@db.example:6543/gimo",
      { host: "db.example", port: "6543", user: "gimo", password: "s:cret", database: "gimo" },
    ],
    ["postgres://gimo@[::1]/gimo", { host: "::1", user: "gimo", database: "gimo" }],
    ["postgres:///gimo", { host: "localhost", database: "gimo" }],
    // a Unix socket: the query parameters win, as in libpq
    [
      "postgres://gimo@localhost/gimo?host=/var/run/postgresql",
      { host: "/var/run/postgresql", user: "gimo", database: "gimo" },
    ],
    [
      "postgres://gimo@localhost:5432/gimo?host=%2Ftmp&port=5499",
      { host: "/tmp", port: "5499", user: "gimo", database: "gimo" },
    ],
  ])("%s", (url, expected) => {
    const got = env(url);
    expect(Object.fromEntries(Object.entries(got).filter(([, v]) => v !== undefined))).toEqual(expected);
  });
});
