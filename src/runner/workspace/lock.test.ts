import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAlive, withRepoLock } from "./lock.ts";

let dir: string;
let lockFile: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gimo-lock-"));
  lockFile = join(dir, "repo.lock");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid as number;
}

describe("withRepoLock", () => {
  it("lets one holder in at a time within a process", async () => {
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withRepoLock(lockFile, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(existsSync(lockFile)).toBe(false);
  });

  it("releases the lock when the holder throws", async () => {
    await expect(withRepoLock(lockFile, async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    expect(await withRepoLock(lockFile, async () => "next")).toBe("next");
  });

  it("waits for a lock held by another live process", async () => {
    const module = join(import.meta.dirname, "lock.ts");
    const holder = spawn(process.execPath, [
      "--input-type=module",
      "-e",
      `const { withRepoLock } = await import(${JSON.stringify(module)});
       await withRepoLock(process.argv[1], async () => { console.log("held"); await new Promise((r) => setTimeout(r, 400)); });`,
      lockFile,
    ]);
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    const started = Date.now();
    await withRepoLock(lockFile, async () => {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(holder.exitCode === null || holder.exitCode === 0).toBe(true);
  });

  it("takes over a lock file left by a dead process", async () => {
    writeFileSync(
      lockFile,
      JSON.stringify({ pid: await deadPid(), host: hostname(), boot: "", at: "", token: "x" }),
    );
    const started = Date.now();
    expect(await withRepoLock(lockFile, async () => "mine")).toBe("mine");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("times out on a lock a live process keeps", async () => {
    writeFileSync(
      lockFile,
      JSON.stringify({ pid: process.ppid, host: hostname(), boot: "", at: "", token: "x" }),
    );
    await expect(withRepoLock(lockFile, async () => "never", 150)).rejects.toThrow(
      /timed out waiting for the repository lock/,
    );
    expect(existsSync(lockFile)).toBe(true);
  });
});

describe("isAlive", () => {
  it("knows this process, a dead one, a foreign host by age, and a garbled record", async () => {
    expect(isAlive({ pid: process.pid, host: hostname() }, 0)).toBe(true);
    expect(isAlive({ pid: await deadPid(), host: hostname() }, 0)).toBe(false);
    expect(isAlive({ pid: 1, host: "elsewhere" }, 1_000)).toBe(true);
    expect(isAlive({ pid: 1, host: "elsewhere" }, 2 * 3_600_000)).toBe(false);
    expect(isAlive({ pid: process.pid, host: hostname(), boot: "another-boot" }, 0)).toBe(false);
    expect(isAlive(undefined, 0)).toBe(false);
  });
});
