import { QueuePostgres } from "./queue-postgres.ts";
import { QueueSqlite } from "./queue-sqlite.ts";
import type { QueueOptions, QueueStore } from "./queue-store.ts";
import type { Store } from "./store.ts";

/** The queue store (queue-store.ts) for `store`'s database: the one place that picks by kind. */
export function queueStoreFor(store: Store, options: QueueOptions): QueueStore {
  return store.kind === "postgres" ? new QueuePostgres(store, options) : new QueueSqlite(store, options);
}
