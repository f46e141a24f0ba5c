import type { Approved } from "../contract/approved.ts";
import { notFound } from "../core/errors.ts";
import { decodeCursor, type Page, toPage } from "../store/pagination.ts";
import { toApproved } from "../store/rows.ts";
import type { AppContext } from "./context.ts";

/** Reading approved snapshots. They are written only by DraftService.approve and never changed. */
export async function listApproved(
  ctx: AppContext,
  filter: { task?: string; project?: string; limit: number; cursor?: string },
): Promise<Page<Approved>> {
  const after = decodeCursor<string>(filter.cursor, "string");
  let q = ctx.store.db
    .selectFrom("approved")
    .selectAll()
    .orderBy("id", "desc")
    .limit(filter.limit + 1);
  if (filter.task) q = q.where("task_id", "=", filter.task);
  if (filter.project) q = q.where("project_id", "=", filter.project);
  if (after) q = q.where("id", "<", after);
  return toPage(await q.execute(), filter.limit, toApproved, (r) => r.id);
}

export async function getApproved(ctx: AppContext, id: string): Promise<Approved> {
  const row = await ctx.store.db.selectFrom("approved").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("approved plan", id);
  return toApproved(row);
}
