import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { draftStatuses } from "../src/core/draft-machine.ts";
import { runStatuses } from "../src/core/run-machine.ts";
import { deriveTaskStatus } from "../src/core/task-status.ts";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { queueRuns } from "./support/runs.ts";

/**
 * The queue's PostgreSQL functions (src/store/sql/) against the TypeScript they must agree with.
 */
describe.runIf(storageKinds().includes("postgres"))("gimo_task_status on postgres", () => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo("postgres");
  });
  afterAll(async () => {
    await g?.close();
  });

  /** Every sequence of run statuses of length 1..max, oldest first. */
  function sequences(max: number): string[][] {
    let level: string[][] = [[]];
    const all: string[][] = [];
    for (let n = 1; n <= max; n++) {
      level = level.flatMap((s) => runStatuses.map((status) => [...s, status]));
      all.push(...level);
    }
    return all;
  }

  it("equals deriveTaskStatus (core/task-status.ts) for every combination of runs, drafts and approval", async () => {
    const db = g.gimo.services.ctx.store.db;
    const [runId] = (await queueRuns(g, 1)) as [string];
    const base = await db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
    const task = await db
      .selectFrom("tasks")
      .selectAll()
      .where("id", "=", base.task_id)
      .executeTakeFirstOrThrow();
    const combos = sequences(3);
    expect(combos).toHaveLength(5 + 25 + 125);
    let checked = 0;
    for (const [k, statuses] of combos.entries()) {
      const taskId = `${task.id}_${k}`;
      await db
        .insertInto("tasks")
        .values({ ...task, id: taskId })
        .execute();
      await db
        .insertInto("runs")
        .values(
          statuses.map((status, i) => ({
            ...base,
            id: `r_${String(k).padStart(4, "0")}_${i}`,
            task_id: taskId,
            status: status as (typeof runStatuses)[number],
          })),
        )
        .execute();
      const { rows } = await sql<{
        status: string | null;
      }>`select gimo_task_status(${taskId}) as status`.execute(db);
      const fromSql = rows[0]?.status;
      const newestFirst = [...statuses].reverse() as (typeof runStatuses)[number][];
      for (const latestDraft of [undefined, ...draftStatuses]) {
        for (const hasApproval of [false, true]) {
          const fromCore = deriveTaskStatus({ latestDraft, hasApproval, runs: newestFirst });
          expect(fromSql, `${statuses.join(",")} draft=${latestDraft} approved=${hasApproval}`).toBe(
            fromCore,
          );
          checked += 1;
        }
      }
    }
    expect(checked).toBe(155 * (draftStatuses.length + 1) * 2);
    // A task without runs: the SQL is never asked (it runs after a run ended) and answers nothing.
    const { rows } = await sql<{
      status: string | null;
    }>`select gimo_task_status('t_none') as status`.execute(db);
    expect(rows[0]?.status).toBeNull();
    // The combinations' rows go, so the harness's checks see only what the app wrote.
    await db.deleteFrom("runs").where("id", "like", "r\\_0%").execute();
    await db.deleteFrom("tasks").where("id", "like", `${task.id}\\_%`).execute();
    await g.request("POST", `/ops/runs/${runId}/cancel`, { role: "operator" });
  });
});
