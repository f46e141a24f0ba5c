import type { Transaction } from "kysely";
import { deriveTaskStatus, statusFromRuns, type TaskStatus } from "../core/task-status.ts";
import type { Database } from "./schema.ts";
import type { Write } from "./store.ts";

/**
 * A task's stored status, kept equal to its derivation (core/task-status.ts) in the transaction of
 * every change to its drafts or runs. The PostgreSQL end of a run derives it in SQL
 * (`gimo_task_status`, src/store/sql/complete.ts), held equal to this by a test.
 */
/** Recomputes and stores a task's derived status; emits `task.status` when it changed. */
export async function refreshTaskStatus(w: Write, taskId: string): Promise<TaskStatus> {
  const tx: Transaction<Database> = w.tx;
  const task = await tx
    .selectFrom("tasks")
    .select("status")
    .where("id", "=", taskId)
    .executeTakeFirstOrThrow();
  const runs = await tx
    .selectFrom("runs")
    .select("status")
    .where("task_id", "=", taskId)
    .orderBy("id", "desc")
    .execute();
  // A task with runs: they decide (the end of every run comes here, so its drafts are not read).
  const status = statusFromRuns(runs.map((r) => r.status)) ?? (await fromDrafts(tx, taskId));
  if (status !== task.status) {
    await tx.updateTable("tasks").set({ status, updated_at: w.now }).where("id", "=", taskId).execute();
    w.emit("task.status", taskId, { from: task.status, to: status });
  }
  return status;
}

/** The status of a task without runs: its newest draft and whether it was approved. */
async function fromDrafts(tx: Transaction<Database>, taskId: string): Promise<TaskStatus> {
  const latestDraft = await tx
    .selectFrom("drafts")
    .select("status")
    .where("task_id", "=", taskId)
    .orderBy("rev", "desc")
    .limit(1)
    .executeTakeFirst();
  const approval = await tx
    .selectFrom("approved")
    .select("id")
    .where("task_id", "=", taskId)
    .limit(1)
    .executeTakeFirst();
  return deriveTaskStatus({
    latestDraft: latestDraft?.status,
    hasApproval: approval !== undefined,
    runs: [],
  });
}
