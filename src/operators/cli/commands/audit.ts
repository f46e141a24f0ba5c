import type { Command } from "commander";

/** `gimo audit verify`, `gimo audit head`: the hash-chained event log (admin). */
export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("the hash-chained audit log (admin)");
  audit
    .command("verify")
    .description("walk the chain and check every approved plan against its approval; exit 1 when broken")
    .option("--head <seq:hash>", "a head recorded earlier: prove nothing after it was cut or rewritten")
    .option("--json", "print as JSON (AuditVerify)")
    .action(async (opts, cmd: Command) => {
      const { verify } = await import("../audit.ts");
      await verify(cmd.optsWithGlobals(), opts);
    });
  audit
    .command("head")
    .description("the chain's last event as <seq>:<hash>: keep it somewhere GIMO cannot write")
    .option("--json", "print as JSON (AuditHead)")
    .action(async (opts, cmd: Command) => {
      const { head } = await import("../audit.ts");
      await head(cmd.optsWithGlobals(), opts);
    });
}
