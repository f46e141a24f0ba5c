/**
 * PostgreSQL advisory locks that GIMO takes, each in the two-key form (`pg_advisory_xact_lock(key,
 * hashtext(id))`) with a first key of its own, so they never meet each other, the executor
 * admission's one-key locks (src/store/sql/claim.ts) or Kysely's migration lock. All are
 * transaction locks: released at commit or rollback, so they hold behind a transaction-pooling
 * proxy too. On SQLite none is needed: every write transaction is IMMEDIATE and holds the
 * database's write lock.
 *
 * - PROJECT_ADMISSION: a claim's admission re-count of a project's running runs (claim.ts). Claims
 *   in one project admit one at a time; nothing else takes it, so enqueues and edits never wait
 *   on claims.
 * - PROJECT_GATE: new work in a project (a task, a chat, a run) holds it shared while it checks
 *   that the project is open and until it commits; a change to the project (archive, unarchive,
 *   edit) holds it exclusive. New work does not wait on other new work; an archive waits for new
 *   work that saw the project open, and new work that comes while an archive waits queues behind
 *   the archive (PostgreSQL's lock manager queues a shared request behind a waiting exclusive
 *   one, where a `FOR SHARE` row lock would let a stream of new work starve the archive).
 */
export const PROJECT_ADMISSION_LOCK = 0x47494d4f; // "GIMO"
export const PROJECT_GATE_LOCK = 0x47494d50; // "GIMP"
