import type { Approved } from "../contract/approved.ts";
import { notFound } from "../core/errors.ts";
import { keysetPage, type Page } from "../store/pagination.ts";
import { toApproved } from "../store/rows.ts";
import type { AppContext } from "./context.ts";

/** Reading approved snapshots. They are written only by DraftService.approve and never changed. */
export async function listApproved(
  ctx: AppContext,
  filter: { task?: string; project?: string; limit: number; cursor?: string },
): Promise<Page<Approved>> {
  let q = ctx.store.db.selectFrom("approved").selectAll();
  if (filter.task) q = q.where("task_id", "=", filter.task);
  if (filter.project) q = q.where("project_id", "=", filter.project);
  return keysetPage(q, { key: "id", order: "desc", limit: filter.limit, cursor: filter.cursor }, toApproved);
}

export async function getApproved(ctx: AppContext, id: string): Promise<Approved> {
  const row = await ctx.store.db.selectFrom("approved").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("approved plan", id);
  return toApproved(row);
}
