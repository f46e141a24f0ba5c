import type { Kysely } from "kysely";
import type { Panic } from "../contract/system.ts";
import type { Database } from "./schema.ts";

/** Small server-wide settings kept as JSON under a key. */

export const PANIC_OFF: Panic = { on: false, reason: null, since: null, by: null };

export async function readSetting<T>(db: Kysely<Database>, key: string): Promise<T | undefined> {
  const row = await db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst();
  return row ? (JSON.parse(row.value) as T) : undefined;
}

export async function writeSetting(
  db: Kysely<Database>,
  key: string,
  value: unknown,
  now: string,
): Promise<void> {
  const text = JSON.stringify(value);
  await db
    .insertInto("settings")
    .values({ key, value: text, updated_at: now })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value: text, updated_at: now }))
    .execute();
}

export async function readPanic(db: Kysely<Database>): Promise<Panic> {
  return (await readSetting<Panic>(db, "panic")) ?? PANIC_OFF;
}
