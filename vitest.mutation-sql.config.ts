import { defineConfig, type Plugin } from "vitest/config";

/**
 * The PostgreSQL queue tests with one PL/pgSQL mutant planted (`npm run test:mutation:sql`,
 * test/mutation/sql-mutants.ts). The function bodies live once each under src/store/sql/; the
 * migrations that `create or replace` them import them from there. GIMO_SQL_MUTANT (JSON
 * `{file, from, to}`) names one string replacement in one of those files: this config's plugin
 * applies it when the test process loads the file, so every database the tests create — fresh,
 * through test/support/databases.ts — gets the mutated body. The file on disk is never touched.
 * A replacement that does not match exactly once fails the load: a stale mutant is not a survivor.
 */
function sqlMutant(): Plugin {
  const raw = process.env.GIMO_SQL_MUTANT;
  const mutant = raw ? (JSON.parse(raw) as { file: string; from: string; to: string }) : undefined;
  return {
    name: "gimo-sql-mutant",
    enforce: "pre",
    transform(code, id) {
      if (!mutant || !id.endsWith(`/src/store/sql/${mutant.file}`)) return null;
      const at = code.indexOf(mutant.from);
      if (at < 0 || code.indexOf(mutant.from, at + 1) >= 0)
        throw new Error(`SQL mutant: ${JSON.stringify(mutant.from)} must occur once in ${mutant.file}`);
      return { code: code.slice(0, at) + mutant.to + code.slice(at + mutant.from.length), map: null };
    },
  };
}

export default defineConfig({
  plugins: [sqlMutant()],
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: ["test/queue-store.test.ts", "test/guards.test.ts", "test/queue.test.ts"],
    bail: 1,
  },
});
