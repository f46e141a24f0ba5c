import { CliError } from "./exit-codes.ts";
import { c, print, printJson } from "./output.ts";
import { connect } from "./session.ts";

/** The actions of `gimo audit verify|head`. */
export async function verify(
  globals: { url?: string },
  opts: { head?: string; json?: boolean },
): Promise<void> {
  const verdict = await (await connect(globals)).verifyAudit(opts.head);
  if (opts.json) printJson(verdict);
  else if (verdict.ok) print(`${c.green("✓")} the audit chain holds (${verdict.checked} events checked)`);
  if (!verdict.ok)
    throw new CliError(
      "error",
      `the audit chain is broken at seq ${verdict.broken_at}: ${verdict.reason ?? ""}`,
    );
}

export async function head(globals: { url?: string }, opts: { json?: boolean }): Promise<void> {
  const h = await (await connect(globals)).auditHead();
  if (opts.json) return printJson(h);
  print(`${h.seq}:${h.hash}`);
}
