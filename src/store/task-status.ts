import type { Transaction } from "kysely";
import { deriveTaskStatus, type TaskStatus } from "../core/task-status.ts";
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
  const [task, latestDraft, approval, runs] = await Promise.all([
    tx.selectFrom("tasks").select("status").where("id", "=", taskId).executeTakeFirstOrThrow(),
    tx
      .selectFrom("drafts")
      .select("status")
      .where("task_id", "=", taskId)
      .orderBy("rev", "desc")
      .limit(1)
      .executeTakeFirst(),
    tx.selectFrom("approved").select("id").where("task_id", "=", taskId).limit(1).executeTakeFirst(),
    tx.selectFrom("runs").select("status").where("task_id", "=", taskId).orderBy("id", "desc").execute(),
  ]);
  const status = deriveTaskStatus({
    latestDraft: latestDraft?.status,
    hasApproval: approval !== undefined,
    runs: runs.map((r) => r.status),
  });
  if (status !== task.status) {
    await tx.updateTable("tasks").set({ status, updated_at: w.now }).where("id", "=", taskId).execute();
    w.emit("task.status", taskId, { from: task.status, to: status });
  }
  return status;
}
