import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Named leases: at most one holder at a time among processes sharing the database (one Telegram
 * poller among `gimo serve` replicas on PostgreSQL). Taking or renewing is one upsert that only
 * overwrites a row whose lease has expired or that the caller already holds — a compare-and-swap
 * the database serialises, so two replicas can never both believe they hold it. A holder that
 * stops renewing loses the lease after `ttlMs`; `release` hands it over at once.
 */
export async function takeLease(
  db: Kysely<Database>,
  name: string,
  holder: string,
  ttlMs: number,
  now: Date = new Date(),
): Promise<boolean> {
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  const at = now.toISOString();
  await db
    .insertInto("leases")
    .values({ name, holder, expires_at: expires })
    .onConflict((oc) =>
      oc
        .column("name")
        .doUpdateSet({ holder, expires_at: expires })
        .where((eb) => eb.or([eb("leases.expires_at", "<", at), eb("leases.holder", "=", holder)])),
    )
    .execute();
  const row = await db.selectFrom("leases").select("holder").where("name", "=", name).executeTakeFirst();
  return row?.holder === holder;
}

export async function releaseLease(db: Kysely<Database>, name: string, holder: string): Promise<void> {
  await db.deleteFrom("leases").where("name", "=", name).where("holder", "=", holder).execute();
}
