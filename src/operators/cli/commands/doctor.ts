import type { Command } from "commander";

/** `gimo doctor`: is this machine and this server ready to plan and run tasks? */
export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description(
      "check git, bubblewrap (with a sandbox smoke test), ripgrep, Node, the server, its database and models",
    )
    .option("--json", "print as JSON ({checks: [{name, ok, detail, fix?}]})")
    .action(async (opts, cmd: Command) => {
      const { doctor } = await import("../doctor.ts");
      await doctor(cmd.optsWithGlobals(), opts);
    });
}
