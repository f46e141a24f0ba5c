import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AGENT_STEP,
  type Arena,
  type Attacker,
  blobSizes,
  call,
  expectContained,
  expectFailed,
  type Outcome,
  processesWith,
  py,
  sh,
  startArena,
} from "./support/attacker.ts";

/**
 * The escape suite, limits part: what one sandboxed command may take from the host (class 7:
 * processes, memory, disk through a commit, file descriptors) and how long a run may last whatever
 * the agent, a step or the model does (class 8: the wall budget). Every attack is bounded so that it
 * cannot harm the machine even on code without limits: the "fork bomb" stops at 1,024 processes, the
 * allocation at 3 GiB, every command has a `timeout`, and a run that overstays is cancelled.
 */
const WORK = call("write_file", { path: "notes.txt", content: "some honest work\n" });
const TIMEOUT = 120_000;

/**
 * A fork bomb that cannot take the machine down: every process forks, ten rounds (1,024 processes at
 * most), then becomes a `sleep`; the first process waits until 1,000 others sleep — or, when
 * forks fail, until their number stops growing — and reports. Its exit ends the command, and the
 * sandbox's PID namespace takes the sleepers with it.
 */
const BOMB_TOKEN = "77.713";
const FORK_BOMB = `import os, time
TOKEN = '${BOMB_TOKEN}'
root = os.getpid()
failed = False
for i in range(10):
    try:
        os.fork()
    except OSError:
        failed = True
if os.getpid() != root:
    try:
        if failed:
            open('/tmp/fork-failed-%d' % os.getpid(), 'w').close()
        os.execv('/bin/sleep', ['sleep', TOKEN])
    finally:
        os._exit(0)
def sleepers():
    n = 0
    for p in os.listdir('/proc'):
        try:
            if p.isdigit() and TOKEN in open('/proc/%s/cmdline' % p).read():
                n += 1
        except OSError:
            pass
    return n
deadline = time.time() + 60
now, last, still, failures = 0, -1, 0, failed
while time.time() < deadline:
    time.sleep(0.5)
    now = sleepers()
    if now >= 1000:
        break
    failures = failures or any(f.startswith('fork-failed') for f in os.listdir('/tmp'))
    still = still + 1 if now == last else 0
    last = now
    if failures and still >= 6:
        break
print('SLEEPERS', now, 'FORK_FAILURES', failures)
`;

/** The output the model saw from the n-th `run_command`. */
const commandOutput = (o: Outcome, n: number) =>
  o.results.filter((r) => r.tool === "run_command")[n]?.content ?? "";

/**
 * The host processes still matching `token` once the sandbox had 10 s to take them down (killing
 * a thousand processes is not instant).
 */
async function leftovers(token: string): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = processesWith(token);
    if (pids.length === 0 || Date.now() > deadline) return pids;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function expectHealthy(a: Arena) {
  const started = Date.now();
  // One retry: a keep-alive connection the server dropped while busy is not a health problem.
  const get = () => a.g.request("GET", "/ops/runs?limit=1");
  const r = await get().catch(get);
  expect.soft(r.status, "GIMO's API after the attack").toBe(200);
  expect.soft(Date.now() - started, "GIMO's API answered slowly after the attack").toBeLessThan(5_000);
}

describe("escape: resource limits", () => {
  let a: Arena;
  beforeEach(async () => {
    a = await startArena();
  });
  afterEach(async () => {
    await a?.close();
  });

  // ── class 7: resources ─────────────────────────────────────────────────────────────────────────

  it("class 7 · fork bomb (python, every process forks, bounded at 1,024): the sandbox caps processes, nothing outlives the command", async () => {
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, processesWith(`sleep ${BOMB_TOKEN}`).length);
    }, 250);
    let o: Outcome;
    try {
      o = await a.run([py(FORK_BOMB, { timeoutSeconds: 90 }), WORK], {
        budgets: { max_wall_seconds: 120 },
        waitMs: 110_000,
      });
    } finally {
      clearInterval(watch);
    }
    // The hardened sandbox may end the command with an error; the host saw how many there were.
    expect
      .soft(peak, `no process limit in the sandbox: ${commandOutput(o, 0).slice(0, 200)}`)
      .toBeLessThan(1_000);
    expect
      .soft(await leftovers(`sleep ${BOMB_TOKEN}`), "processes of the sandbox outlived its command")
      .toEqual([]);
    await expectHealthy(a);
    await expectContained(a, o);
  }, 150_000);

  it(
    "class 7 · a 3 GiB allocation fails inside the sandbox",
    async () => {
      const o = await a.run(
        [sh(`timeout 60 python3 -c "b = bytearray(3 * 1024 ** 3); print('ALLOCATED', len(b))"`), WORK],
        { budgets: { max_wall_seconds: 90 } },
      );
      expect.soft(commandOutput(o, 0), "the sandbox let a command allocate 3 GiB").not.toContain("ALLOCATED");
      await expectHealthy(a);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  it.each([
    ["random", "head -c 300M /dev/urandom > big.bin"],
    ["sparse", "truncate -s 300M big.bin"],
  ])(
    "class 7 · a 300 MB file (%s) written and committed never reaches the remote (commit_too_large, or the write fails)",
    async (_kind, write) => {
      const o = await a.run([WORK, sh(`${write}; ls -l big.bin`)], { waitMs: 150_000 });
      const written = commandOutput(o, 0).includes("314572800");
      if (written) expectFailed(o, "commit_too_large");
      const sizes = await blobSizes(a.g.repo.remotePath);
      expect
        .soft(Math.max(0, ...sizes), "a blob over 100 MB reached the remote")
        .toBeLessThan(100 * 1024 * 1024);
      await expectHealthy(a);
      await expectContained(a, o);
    },
    180_000,
  );

  it(
    "class 7 · many open files: the sandbox has a descriptor limit and GIMO stays healthy",
    async () => {
      const o = await a.run([
        py(`import os
fds = []
err = ''
try:
    while len(fds) < 100000:
        fds.append(os.open('/dev/null', os.O_RDONLY))
except OSError as e:
    err = str(e)
print('OPENED', len(fds), err)`),
        WORK,
      ]);
      const opened = Number(/OPENED (\d+)/.exec(commandOutput(o, 0))?.[1] ?? 0);
      expect.soft(opened, "no descriptor limit in the sandbox").toBeLessThan(100_000);
      await expectHealthy(a);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  // ── class 8: the wall budget ───────────────────────────────────────────────────────────────────

  const WALL = 10;
  /** The run ended on its wall budget, within max_wall_seconds + 6 s, and its command died with it. */
  async function expectWallBudget(o: Outcome, token: string) {
    expectFailed(o, "budget_exceeded");
    const named =
      o.error?.details?.budget === "max_wall_seconds" || /max_wall_seconds/.test(o.error?.message ?? "");
    expect.soft(named, `the error does not name max_wall_seconds: ${JSON.stringify(o.error)}`).toBe(true);
    expect
      .soft(o.elapsedMs, "the run outlived max_wall_seconds by more than 6 s")
      .toBeLessThan((WALL + 6) * 1000);
    expect.soft(await leftovers(token), "the command outlived the run").toEqual([]);
    await expectContained(a, o);
  }

  it(
    "class 8 · wall budget: `sleep 40` in an agent run_command ends the run budget_exceeded",
    async () => {
      const o = await a.run([WORK, sh("sleep 40.801")], {
        budgets: { max_wall_seconds: WALL },
        waitMs: 25_000,
      });
      await expectWallBudget(o, "40.801");
    },
    TIMEOUT,
  );

  it(
    "class 8 · wall budget: a run_command that ignores SIGTERM ends the run budget_exceeded",
    async () => {
      const o = await a.run(
        [
          WORK,
          sh(
            `python3 -c "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(40.802)"`,
          ),
        ],
        { budgets: { max_wall_seconds: WALL }, waitMs: 25_000 },
      );
      await expectWallBudget(o, "40.802");
    },
    TIMEOUT,
  );

  it(
    "class 8 · wall budget: `sleep 40` in a command step ends the run budget_exceeded",
    async () => {
      const o = await a.run([WORK], {
        planSteps: [AGENT_STEP, { id: "s2", kind: "command", title: "Wait", command: "sleep 40.803" }],
        budgets: { max_wall_seconds: WALL },
        waitMs: 25_000,
      });
      await expectWallBudget(o, "40.803");
    },
    TIMEOUT,
  );

  it(
    "class 8 · wall budget: a test command that sleeps 40 s ends the run budget_exceeded",
    async () => {
      await a.g.request("PATCH", `/ops/projects/${a.g.projectId}`, {
        body: { test_command: "sleep 40.804" },
      });
      const o = await a.run([WORK], {
        planSteps: [AGENT_STEP, { id: "s2", kind: "test", title: "Tests" }],
        budgets: { max_wall_seconds: WALL },
        waitMs: 25_000,
      });
      await expectWallBudget(o, "40.804");
    },
    TIMEOUT,
  );

  it(
    "class 8 · wall budget: a setup command that sleeps 40 s ends the run budget_exceeded",
    async () => {
      await a.g.request("PATCH", `/ops/projects/${a.g.projectId}`, {
        body: { setup_command: "sleep 40.805" },
      });
      const o = await a.run([WORK], { budgets: { max_wall_seconds: WALL }, waitMs: 25_000 });
      await expectWallBudget(o, "40.805");
    },
    TIMEOUT,
  );

  it(
    "class 8 · wall budget: a model that stalls 40 s on a turn ends the run budget_exceeded",
    async () => {
      let turn = 0;
      const stalling: Attacker = {
        results: [],
        respond: async () =>
          turn++ === 0
            ? { toolCalls: [{ name: "write_file", args: { path: "notes.txt", content: "x\n" } }] }
            : { toolCalls: [{ name: "finish", args: { summary: "done" } }], delayMs: 40_000 },
      };
      const o = await a.run(stalling, { budgets: { max_wall_seconds: WALL }, waitMs: 25_000 });
      await expectWallBudget(o, "no-such-process-token");
    },
    TIMEOUT,
  );
});
