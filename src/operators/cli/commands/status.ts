import type { Command } from "commander";

/** `gimo status`: the server, its runners, queue, provider health and panic mode at a glance. */
export function registerStatusCommand(program: Command): void {
  program
    .command("status")
    .description("the server at a glance: version, storage, panic mode, runners, queue, providers")
    .option(
      "--json",
      "print as JSON ({status: Status, runners: RunnerStatus, providers: ProvidersHealth|null})",
    )
    .action(async (opts, cmd: Command) => {
      const { status } = await import("../status.ts");
      await status(cmd.optsWithGlobals(), opts);
    });
}
