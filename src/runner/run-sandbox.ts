import { RunFailed } from "./run-failed.ts";
import type { CommandResult, Sandbox } from "./sandbox/sandbox.ts";

/**
 * The sandbox as a run sees it: a command the sandbox stopped for a limit it watches ends the run
 * (`workspace_too_large`), wherever it ran — a step, the tests, or one of the agent's tools.
 */
export function endingOnLimits(sandbox: Sandbox): Sandbox {
  const check = (result: CommandResult): CommandResult => {
    if (result.limitExceeded) {
      throw new RunFailed({
        code: "workspace_too_large",
        message: `a command was stopped: the workspace grew past its limit (${result.limitExceeded}); ${result.output.slice(-300)}`,
      });
    }
    return result;
  };
  return {
    kind: sandbox.kind,
    user: sandbox.user,
    describe: (spec) => sandbox.describe(spec),
    run: async (command, spec, opts) => check(await sandbox.run(command, spec, opts)),
    runArgv: async (argv, spec, opts) => check(await sandbox.runArgv(argv, spec, opts)),
    prepareProcess: (argv, spec) => sandbox.prepareProcess(argv, spec),
  };
}
