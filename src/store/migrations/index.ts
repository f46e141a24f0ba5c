import type { Migration } from "kysely";
import * as core from "./0001_core.ts";

/** Numbered migrations, applied in order at start. Append; never edit a released one. */
export const migrations: Record<string, Migration> = {
  "0001_core": core,
};
