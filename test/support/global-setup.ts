import pg from "pg";
import type { TestProject } from "vitest/node";

/**
 * Decides once whether the PostgreSQL suite runs. In CI (`CI=true`) PostgreSQL is required: if it
 * cannot be reached the whole run fails here, loudly, instead of quietly skipping half the suite.
 */
export const PG_ADMIN_URL = process.env.GIMO_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export default async function setup(project: TestProject) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  let available = false;
  try {
    await client.connect();
    await client.query("select 1");
    available = true;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    if (process.env.CI === "true" || process.env.GIMO_TEST_REQUIRE_PG === "1") {
      throw new Error(`PostgreSQL is required in CI but ${PG_ADMIN_URL} is not reachable: ${why}`);
    }
    process.stderr.write(
      `\n!! PostgreSQL not reachable (${why}): the PostgreSQL half of the suite is SKIPPED\n\n`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  project.provide("pgAvailable", available);
  project.provide("pgAdminUrl", PG_ADMIN_URL);
}

declare module "vitest" {
  export interface ProvidedContext {
    pgAvailable: boolean;
    pgAdminUrl: string;
  }
}
