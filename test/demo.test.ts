import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/** `gimo demo`, run as a user runs it: offline, green, well under a minute. */
const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, "../src/operators/cli/main.ts");

describe("gimo demo", () => {
  it("plans, runs in the sandbox, pushes a task branch and shows the green tests", async () => {
    const started = Date.now();
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(ORCH_|GIMO_|DATABASE_URL)/.test(k)),
    );
    const { stdout } = await run(process.execPath, [CLI, "demo"], { env, timeout: 60_000 });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(stdout).toContain("Its tests fail before GIMO: 1 passed, 2 failed");
    expect(stdout).toMatch(/Approved without asking \(--yes\) as cli:\S+: a_\w+ \(sha256:[0-9a-f]{64}\)\./);
    expect(stdout).toMatch(/Run r_\w+ succeeded\./);
    expect(stdout).toContain("verified: yes");
    expect(stdout).toMatch(/Gimo-Run: r_\w+/);
    expect(stdout).toMatch(/Gimo-Approved: a_\w+ sha256:[0-9a-f]{64}/);
    expect(stdout).toContain("+  return a + b;");
    expect(stdout).toMatch(/The tests on task\/t_\w+:\n(ok .*\n){3}3 passed, 0 failed/);
    expect(stdout).toMatch(/main is untouched:\n[0-9a-f]+ calc: add and multiply\n/);
  }, 90_000);
});
