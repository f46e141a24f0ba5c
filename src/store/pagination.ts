import { GimoError } from "../core/errors.ts";

/**
 * Keyset pagination. A cursor is the opaque, base64url-encoded sort key of the last item of a
 * page; the next page is "everything strictly after it". Lists ask for `limit + 1` rows to know
 * whether a next page exists without counting.
 */
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
