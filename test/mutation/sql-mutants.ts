import { spawnSync } from "node:child_process";
import { join } from "node:path";

/**
 * Mutation testing of the PL/pgSQL queue functions (`npm run test:mutation:sql`): StrykerJS mutates
 * TypeScript, not the SQL inside its strings, so this is a small hand-listed set of mutants of our
 * own, each one condition of src/store/sql/ removed or flipped. For each, the PostgreSQL half of
 * the queue tests (vitest.mutation-sql.config.ts: queue store conformance, single guards, the run
 * queue) runs with that one mutant planted — every database they create is fresh and gets the
 * mutated body from its migrations — and the mutant is killed when a test fails. First a run with
 * no mutant, which must pass. Prints killed/survived and the score; exits 1 below THRESHOLD.
 * Survivors, and why each is equivalent or harmless, are listed in NOTES.md ("Guards pinned").
 *
 *   npm run test:mutation:sql [-- name-substring…]   # all, or the mutants whose names contain one
 *   (SQL_MUTANTS_NO_BASELINE=1 skips the run with no mutant, when re-checking a few.)
 */
interface Mutant {
  name: string;
  file: "claim.ts" | "complete.ts" | "event-log.ts";
  from: string;
  to: string;
  /** The test files that should kill it (default: the queue store conformance and the guards). */
  tests?: string[];
}

const THRESHOLD = 80;
const DEFAULT_TESTS = ["test/queue-store.test.ts", "test/guards.test.ts"];
const QUEUE = ["test/queue.test.ts"];

// biome-ignore format: a table
const MUTANTS: Mutant[] = [
  // The claim walk (gimo_claim_walk, gimo_chained_approval).
  { name: "claim: panic mode ignored", file: "claim.ts",
    from: "if coalesce((select (value::jsonb ->> 'on')::boolean from settings where key = 'panic'), false) then",
    to: "if false then" },
  { name: "claim: priority order dropped", file: "claim.ts",
    from: "order by r.priority desc, r.id", to: "order by r.id" },
  { name: "claim: run_after ignored", file: "claim.ts",
    from: "continue when c.run_after > p_now or", to: "continue when" },
  { name: "claim: any ended dependency admits", file: "claim.ts",
    from: "dep.status <> 'succeeded'", to: "dep.status in ('queued', 'running')", tests: QUEUE },
  { name: "claim: project limit off by one (locked count)", file: "claim.ts",
    from: "hashtext(c.project_id));\n      select * into v_project from projects p where p.id = c.project_id;\n      if gimo_project_running(c.project_id) >= v_project.max_concurrent_runs then",
    to: "hashtext(c.project_id));\n      select * into v_project from projects p where p.id = c.project_id;\n      if gimo_project_running(c.project_id) > v_project.max_concurrent_runs then" },
  { name: "claim: project limit, locked re-count dropped", file: "claim.ts",
    from: "hashtext(c.project_id));\n      select * into v_project from projects p where p.id = c.project_id;\n      if gimo_project_running(c.project_id) >= v_project.max_concurrent_runs then",
    to: "hashtext(c.project_id));\n      select * into v_project from projects p where p.id = c.project_id;\n      if false then" },
  { name: "claim: executor limit off by one (locked count)", file: "claim.ts",
    from: "perform pg_advisory_xact_lock(hashtext(v_key));\n        if gimo_provider_running(v_key) >= v_limit then",
    to: "perform pg_advisory_xact_lock(hashtext(v_key));\n        if gimo_provider_running(v_key) > v_limit then" },
  { name: "claim: project not read again under its admission lock", file: "claim.ts",
    from: "hashtext(c.project_id));\n      select * into v_project from projects p where p.id = c.project_id;\n",
    to: "hashtext(c.project_id));\n" },
  { name: "claim: a full project does not skip its other runs", file: "claim.ts",
    from: "or c.project_id = any(v_full);", to: ";", tests: QUEUE },
  { name: "claim: executor-less agent plans admitted", file: "claim.ts",
    from: "continue when v_uses_executor and exists", to: "continue when false and exists" },
  { name: "claim: SKIP LOCKED re-check without status", file: "claim.ts",
    from: "x.id = c.id and x.status = 'queued' for update skip locked", to: "x.id = c.id for update skip locked" },
  { name: "claim: SKIP LOCKED dropped (waits)", file: "claim.ts",
    from: "for update skip locked", to: "for update" },
  { name: "claim: attempt not counted", file: "claim.ts",
    from: "attempt = x.attempt + 1", to: "attempt = x.attempt" },
  { name: "claim: content_hash of any approval of the draft", file: "claim.ts",
    from: "and e.data::jsonb ->> 'approved_id' = p_approved ->> 'id'", to: "" },
  // The end of an attempt (gimo_complete_core, gimo_complete_many, gimo_task_status).
  { name: "complete: fence without runner identity", file: "complete.ts",
    from: "and x.attempt = p_attempt and x.lease_owner = p_runner", to: "and x.attempt = p_attempt" },
  { name: "complete: fence without attempt", file: "complete.ts",
    from: "and x.attempt = p_attempt and x.lease_owner = p_runner", to: "and x.lease_owner = p_runner" },
  { name: "complete: fence without status running", file: "complete.ts",
    from: "where x.id = p_run and x.status = 'running' and", to: "where x.id = p_run and" },
  { name: "complete: panic mode ignored", file: "complete.ts",
    from: "  if v_panic then", to: "  if false then" },
  { name: "complete: retry on the last attempt", file: "complete.ts",
    from: "v_run.attempt < v_run.max_attempts", to: "v_run.attempt <= v_run.max_attempts" },
  { name: "complete: non-retryable failure retried", file: "complete.ts",
    from: "v_end = 'failed' and v_retryable and", to: "v_end = 'failed' and" },
  { name: "complete: cancellation request ignored on retryable failure", file: "complete.ts",
    from: "if v_run.cancel_requested = 1 and v_end = 'failed' and v_retryable then", to: "if false then" },
  { name: "complete: claim_next after a lease_lost end", file: "complete.ts",
    from: "continue when a_outcome[u.k] = 'lease_lost' or not", to: "continue when not", tests: QUEUE },
  { name: "task status: queued runs not executing", file: "complete.ts",
    from: "x.status in ('queued', 'running')", to: "x.status in ('running')" },
  { name: "task status: failed reads as cancelled", file: "complete.ts",
    from: "when 'failed' then 'FAILED' ", to: "" },
  // The event log's append (gimo_append_events_as).
  { name: "append: prev_hash left out of the hash", file: "event-log.ts",
    from: "',\"prev_hash\":' || to_json(v_prev)::text || ", to: "", tests: QUEUE },
  { name: "append: head not moved", file: "event-log.ts",
    from: "update event_head set seq = v_head.seq, hash = v_head.hash where id = 1;", to: "" },
];

const root = join(import.meta.dirname, "..", "..");
const vitest = join(root, "node_modules", ".bin", "vitest");

function run(mutant: Mutant | undefined): { failed: boolean; output: string; seconds: number } {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, GIMO_TEST_REQUIRE_PG: "1" };
  if (mutant) env.GIMO_SQL_MUTANT = JSON.stringify({ file: mutant.file, from: mutant.from, to: mutant.to });
  else delete env.GIMO_SQL_MUTANT;
  const files = mutant ? (mutant.tests ?? DEFAULT_TESTS) : [...DEFAULT_TESTS, ...QUEUE];
  const r = spawnSync(
    vitest,
    ["run", "--config", "vitest.mutation-sql.config.ts", "-t", "postgres", ...files],
    {
      cwd: root,
      env,
      encoding: "utf8",
    },
  );
  return { failed: r.status !== 0, output: `${r.stdout}${r.stderr}`, seconds: (Date.now() - started) / 1000 };
}

const only = process.argv.slice(2);
const chosen = only.length > 0 ? MUTANTS.filter((m) => only.some((o) => m.name.includes(o))) : MUTANTS;
const baseline = process.env.SQL_MUTANTS_NO_BASELINE
  ? { failed: false, output: "", seconds: 0 }
  : run(undefined);
if (baseline.failed) {
  process.stderr.write(`${baseline.output}\nThe tests fail with no mutant planted: fix them first.\n`);
  process.exit(2);
}
process.stdout.write(`baseline: green in ${baseline.seconds.toFixed(0)} s\n`);
const survivors: string[] = [];
for (const m of chosen) {
  const r = run(m);
  if (r.output.includes("SQL mutant:")) {
    process.stderr.write(
      `${r.output}\nstale mutant "${m.name}": its text is not in src/store/sql/${m.file}\n`,
    );
    process.exit(2);
  }
  if (!r.failed) survivors.push(m.name);
  const killer = r.output.match(/FAIL .*?> (.*)/)?.[1]?.trim();
  process.stdout.write(
    `${r.failed ? "killed  " : "SURVIVED"} ${m.name} (${r.seconds.toFixed(0)} s)${killer ? `  by: ${killer}` : ""}\n`,
  );
}
const score = (100 * (chosen.length - survivors.length)) / chosen.length;
process.stdout.write(
  `\nSQL mutation score: ${score.toFixed(1)} % (${chosen.length - survivors.length}/${chosen.length} killed)\n`,
);
for (const s of survivors) process.stdout.write(`  survived: ${s}\n`);
process.exit(score < THRESHOLD ? 1 : 0);
