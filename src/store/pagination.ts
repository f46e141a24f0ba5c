/**
 * Keyset pagination. A cursor is the opaque, base64url-encoded sort key of the last item of a
 * page; the next page is "everything strictly after it". Lists ask for `limit + 1` rows to know
 * whether a next page exists without counting. `keysetPage` does all of it for a list query: the
 * lists of app/ build their filtered SELECT and hand it over.
 */
import { type SelectQueryBuilder, sql } from "kysely";
import { GimoError } from "../core/errors.ts";
import type { Database } from "./schema.ts";

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor<K extends string | number>(
  cursor: string | undefined,
  type: "string" | "number",
): K | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    // Only keys this server could have written: a database refuses NUL in text and non-integers as seq.
    if (
      type === "number"
        ? Number.isSafeInteger(key) && key >= 0
        : typeof key === "string" && !key.includes("\u0000")
    )
      return key as K;
  } catch {}
  throw new GimoError("validation_failed", "cursor is not one this server gave out");
}

export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  keyOf: (row: R) => string | number,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), next_cursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

/** Where a page starts and how big it is: the sort key (`seq` is a number, `id` a string). */
export interface KeysetOptions {
  key: "id" | "seq";
  order: "asc" | "desc";
  limit: number;
  cursor?: string | undefined;
}

/** One page of `query`, sorted by `key`, strictly after the cursor's key. */
export async function keysetPage<TB extends keyof Database, R extends { id?: string; seq?: number }, T>(
  query: SelectQueryBuilder<Database, TB, R>,
  opts: KeysetOptions,
  map: (row: R) => T,
): Promise<Page<T>> {
  const after = decodeCursor(opts.cursor, opts.key === "seq" ? "number" : "string");
  let q = query.orderBy(sql.ref(opts.key), opts.order).limit(opts.limit + 1);
  if (after !== undefined && after !== "")
    q = q.where(sql.ref(opts.key), opts.order === "asc" ? ">" : "<", after);
  return toPage(await q.execute(), opts.limit, map, (r) => r[opts.key] as string | number);
}
