import type { CommandResult } from "./sandbox/sandbox.ts";

/**
 * A test command's result as a run records it: exit code, pass/fail counts when the output says
 * them (the closing lines of common runners: vitest/jest "Tests: 3 passed", pytest "2 failed,
 * 5 passed", node:test "# pass 5", TAP, "N passed, N failed"), and the tail of the output.
 */
export interface TestReport {
  command: string;
  exit_code: number | null;
  passed: number | null;
  failed: number | null;
  output_tail: string;
}

const TAIL = 4_000;

export function testReport(command: string, result: CommandResult): TestReport {
  const { passed, failed } = countTests(result.output);
  return {
    command,
    exit_code: result.timedOut ? null : result.exitCode,
    passed,
    failed,
    output_tail: result.output.length > TAIL ? result.output.slice(-TAIL) : result.output,
  };
}

export function countTests(output: string): { passed: number | null; failed: number | null } {
  const plain = output.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
  const last = (re: RegExp): number | null => {
    const all = [...plain.matchAll(re)];
    const m = all[all.length - 1];
    return m?.[1] !== undefined ? Number(m[1]) : null;
  };
  const passed = last(/(\d+) (?:passed|passing)\b/gi) ?? last(/^# pass (\d+)/gim) ?? last(/^ok (\d+)/gm);
  const failed = last(/(\d+) (?:failed|failing)\b/gi) ?? last(/^# fail (\d+)/gim);
  return { passed, failed: failed ?? (passed !== null ? 0 : null) };
}
