import type { Kysely } from "kysely";
import { contentHash } from "../core/content-hash.ts";
import type { VerifyResult } from "../store/event-log.ts";
import type { ApprovedTable, Database, EventsTable } from "../store/schema.ts";

/**
 * An approval as the hash-chained event log recorded it.
 *
 * The `approved` row is a snapshot anyone with write access to the database can rewrite, plan and
 * `content_hash` together, and the two would still agree. The `draft.approved` event written in
 * the same transaction cannot be rewritten without breaking the chain (and a recorded head): its
 * `content_hash` is the one that counts.
 *   - A claim hands the runner the recorded hash (queue.ts on SQLite, `gimo_chained_approval`,
 *     migration 0008, on PostgreSQL), so the runner's own check of the plan against it fails a
 *     rewritten plan with `approval_drift`. An approval with no event gets UNRECORDED, which no
 *     plan matches.
 *   - `/ops/audit/verify` compares every snapshot with its event (`checkApprovals`).
 */
/** What one `draft.approved` event recorded, by approved id. */
export interface RecordedApproval {
  seq: number;
  draftId: string;
  actor: string;
  contentHash: unknown;
}

/** Collects the approvals a verified chain recorded (pass as verifyChain's `visit`). */
export function approvalCollector(into: Map<string, RecordedApproval>) {
  return (row: EventsTable) => {
    if (row.type !== "draft.approved") return;
    const data = JSON.parse(row.data) as { approved_id?: unknown; content_hash?: unknown };
    if (typeof data.approved_id !== "string") return;
    into.set(data.approved_id, {
      seq: Number(row.seq),
      draftId: row.subject,
      actor: row.actor,
      contentHash: data.content_hash,
    });
  };
}

const PAGE = 500;

/**
 * Every approved snapshot against the chain: its plan must hash to its `content_hash`, which must
 * be the one its `draft.approved` event recorded, for the same draft and approver; every recorded
 * approval must still have its snapshot. The first problem in chain order is answered (one with
 * no event to name, last); undefined when all hold.
 */
export async function checkApprovals(
  db: Kysely<Database>,
  recorded: ReadonlyMap<string, RecordedApproval>,
  checked: number,
): Promise<VerifyResult | undefined> {
  let first: { at: number | undefined; reason: string } | undefined;
  const note = (at: number | undefined, reason: string) => {
    if (!first || (at ?? Number.POSITIVE_INFINITY) < (first.at ?? Number.POSITIVE_INFINITY))
      first = { at, reason };
  };
  const seen = new Set<string>();
  for (let after = ""; ; ) {
    const rows = await db
      .selectFrom("approved")
      .selectAll()
      .where("id", ">", after)
      .orderBy("id")
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      seen.add(row.id);
      const problem = snapshotProblem(row, recorded.get(row.id));
      if (problem) note(recorded.get(row.id)?.seq, problem);
    }
    if (rows.length < PAGE) break;
    after = rows.at(-1)?.id ?? after;
  }
  for (const [id, approval] of recorded) {
    if (!seen.has(id)) note(approval.seq, `approved ${id}, recorded at event ${approval.seq}, is missing`);
  }
  return first ? { ok: false, checked, broken_at: first.at, reason: first.reason } : undefined;
}

function snapshotProblem(row: ApprovedTable, event: RecordedApproval | undefined): string | undefined {
  if (!event)
    return `approved ${row.id} has no draft.approved event in the log: it was written behind its back`;
  if (planHash(row.plan) !== row.content_hash)
    return `approved ${row.id}: its plan does not match its content_hash (the plan was rewritten)`;
  if (row.content_hash !== event.contentHash)
    return `approved ${row.id}: its content_hash is not the one event ${event.seq} recorded (the snapshot was rewritten)`;
  if (row.draft_id !== event.draftId || row.approved_by !== event.actor)
    return `approved ${row.id}: its draft_id or approved_by is not what event ${event.seq} recorded`;
  return undefined;
}

function planHash(plan: string): string | undefined {
  try {
    return contentHash(JSON.parse(plan));
  } catch {
    return undefined;
  }
}
