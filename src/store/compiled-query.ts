import type { Compilable, CompiledQuery, Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * A query built and compiled once per dialect, then run with fresh parameters. Kysely builds an
 * operation tree and compiles it to SQL on every call; on a hot read (GET /ops/runs/{id}) that
 * was the largest JavaScript item after the HTTP layer (bench/api). The SQL text of such a query
 * depends only on the dialect, so it is compiled the first time a dialect runs it and kept, keyed
 * by the dialect's adapter (a transaction shares its database's adapter, so `db` and `w.tx` hit
 * the same entry). SQLite's statement cache (sqlite-dialect.ts) then reuses the prepared
 * statement by its text, and PostgreSQL gets the same text every time.
 *
 * `build` receives placeholder values and must pass each one, in order, as a parameter; the first
 * compilation checks that the compiled parameters are exactly those placeholders (so a builder
 * that inlines or reorders a value fails loudly, once, instead of running with the wrong value).
 */
export function compiledQuery<R, P extends unknown[]>(
  build: (db: Kysely<Database>, ...params: P) => Compilable<R>,
  placeholders: NoInfer<P>,
): (db: Kysely<Database>, ...params: P) => Promise<R[]> {
  const byAdapter = new WeakMap<object, CompiledQuery<R>>();
  return async (db, ...params) => {
    const adapter = db.getExecutor().adapter;
    let compiled = byAdapter.get(adapter);
    if (!compiled) {
      compiled = build(db, ...placeholders).compile();
      const same =
        compiled.parameters.length === placeholders.length &&
        compiled.parameters.every((p, i) => p === placeholders[i]);
      if (!same) throw new Error(`compiledQuery: parameters of ${compiled.sql} are not the placeholders`);
      byAdapter.set(adapter, compiled);
    }
    const result = await db.executeQuery<R>({ ...compiled, parameters: params });
    return result.rows;
  };
}
