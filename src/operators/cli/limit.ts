import { CliError } from "./exit-codes.ts";

/** `--limit N` of the list commands: 1-200, as the API pages. */
export function limit(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 200)
    throw new CliError("usage", `--limit must be 1-200 (got ${raw})`);
  return n;
}
