import type { Config } from "../config.ts";
import type { Clock } from "../core/clock.ts";
import type { IdFactory } from "../core/ids.ts";
import type { Redactor } from "../core/redactor.ts";
import type { Store } from "../store/store.ts";

/** What every application service is given: the store, the clock, ids and the parsed config. */
export interface AppContext {
  store: Store;
  clock: Clock;
  ids: IdFactory;
  config: Config;
  startedAt: Date;
  /** Secret values that must never be stored or shown (tokens, API keys, vault values). */
  redactor: Redactor;
}
