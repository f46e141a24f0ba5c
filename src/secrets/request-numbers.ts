import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { type Kysely, sql } from "kysely";
import { GimoError } from "../core/errors.ts";
import type { Database } from "../store/schema.ts";
import { writeFileAtomic } from "./atomic-file.ts";

/**
 * The numbers of credential requests (`REQ-001`…): new names get the next numbers in sorted order,
 * and a number, once given, stays with its name, so ids do not shift when the configuration
 * changes. Kept beside the vault: in the data dir (`credential-requests.json`) with the file vault,
 * in the database (`credential_requests`, migration 0012) with the database vault — so every replica
 * gives a name the same id, whichever replica first listed it.
 */
export interface RequestNumbers {
  /** Every number given so far, by name. */
  all(): Promise<Record<string, number>>;
  /** The numbers of `names`, giving new ones (in sorted order) to names that have none. */
  assign(names: string[]): Promise<Record<string, number>>;
  /** At start: takes over the numbers an older GIMO kept in the data dir (database only). */
  prepare(): Promise<void>;
}

export const requestsFileName = "credential-requests.json";

export function fileRequestNumbers(dataDir: string): RequestNumbers {
  const file = join(dataDir, requestsFileName);
  const all = async () => readNumbers(file);
  return {
    all,
    prepare: async () => {},
    // Synchronous between the read and the write on purpose: two calls cannot interleave.
    assign: async (names) => {
      const current = readNumbers(file);
      const fresh = names.filter((name) => current[name] === undefined).sort();
      if (fresh.length === 0) return current;
      let next = Math.max(0, ...Object.values(current)) + 1;
      const updated = { ...current };
      for (const name of fresh) updated[name] = next++;
      writeFileAtomic(file, `${JSON.stringify({ version: 1, numbers: updated }, null, 2)}\n`);
      return updated;
    },
  };
}

export function databaseRequestNumbers(db: Kysely<Database>, dataDir: string): RequestNumbers {
  const all = async () =>
    Object.fromEntries(
      (await db.selectFrom("credential_requests").select(["name", "number"]).execute()).map((r) => [
        r.name,
        Number(r.number),
      ]),
    );
  return {
    all,
    assign: async (names) => {
      const current = await all();
      const fresh = names.filter((name) => current[name] === undefined).sort();
      if (fresh.length === 0) return current;
      for (const name of fresh) {
        // The next number in one statement; a replica that took the same number at the same moment
        // makes this one fail on the unique index, and it takes the one after.
        for (let attempt = 0; ; attempt++) {
          try {
            await sql`insert into credential_requests (name, number)
              select ${name}, coalesce(max(number), 0) + 1 from credential_requests where true
              on conflict (name) do nothing`.execute(db);
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== "23505" || attempt >= 20) throw error;
          }
        }
      }
      return all();
    },
    prepare: async () => {
      const file = join(dataDir, requestsFileName);
      if (!existsSync(file)) return;
      const numbers = Object.entries(readNumbers(file)).sort(([, a], [, b]) => a - b);
      for (const [name, number] of numbers) {
        // A name or number another replica gave first keeps that replica's numbering.
        await db
          .insertInto("credential_requests")
          .values({ name, number })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      renameSync(file, `${file}.imported-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    },
  };
}

function readNumbers(file: string): Record<string, number> {
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { numbers?: Record<string, number> };
    return parsed.numbers ?? {};
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new GimoError("internal", `${file} is unreadable (${why}); fix or remove it to renumber requests`);
  }
}
