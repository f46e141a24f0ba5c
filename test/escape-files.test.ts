import { closeSync, constants, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Arena,
  call,
  expectContained,
  type Outcome,
  sh,
  startArena,
  type ToolResult,
  workspaceOf,
} from "./support/attacker.ts";

/**
 * The escape suite, file tools part (class 6): `read_file`, `write_file`, `edit_file`, `list_files`
 * and `search` run in GIMO's own process — outside the sandbox, as GIMO's user — on a workspace the
 * agent shapes with commands inside the sandbox (symlinks, FIFOs, hard links). Every call must stay
 * in the workspace: a refused call answers an error to the model (a `→` line in the run's logs) and
 * creates or reads nothing outside.
 */
const WORK = call("write_file", { path: "notes.txt", content: "some honest work\n" });
const TIMEOUT = 90_000;

/** The result the model saw for the call to `tool` whose answer is the n-th of that tool. */
function resultOf(o: Outcome, tool: string, n = 0): ToolResult | undefined {
  return o.results.filter((r) => r.tool === tool)[n];
}

/**
 * The model was told the call did not happen (no "wrote …"/"edited …"), and the answer is in the
 * run's logs as a `→` line.
 */
function expectRefused(o: Outcome, r: ToolResult | undefined, what: string) {
  expect.soft(r, `${what}: the model got no answer`).toBeDefined();
  expect.soft(r?.content ?? "", `${what} went through`).not.toMatch(/^(wrote|edited) /);
  const head = (r?.content ?? "").split("\n")[0]?.slice(0, 60) ?? "";
  expect.soft(o.logs, `${what}: the answer is not in the run's logs`).toContain(`→ ${head}`);
}

describe("escape: file tools and symlinks", () => {
  let a: Arena;
  beforeEach(async () => {
    a = await startArena();
  });
  afterEach(async () => {
    await a?.close();
  });

  it.each([
    ["a dangling symlink", (t: string) => `ln -s ${t}/newfile nf`],
    ["a chain of symlinks ending dangling outside", (t: string) => `ln -s hop nf && ln -s ${t}/newfile hop`],
    ["a relative dangling symlink", (t: string) => `ln -s ../../../../../../../../../..${t}/newfile nf`],
  ])(
    "class 6 · write_file through %s creates nothing outside the workspace",
    async (_name, link) => {
      const o = await a.run([
        WORK,
        sh(link(a.tmp)),
        call("write_file", { path: "nf", content: "PLANTED BY THE AGENT\n" }),
      ]);
      expectRefused(o, resultOf(o, "write_file", 1), "write_file nf");
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  it(
    "class 6 · write_file and edit_file through a symlink to an existing host file leave it unchanged",
    async () => {
      const victim = join(a.tmp, "victim.txt");
      writeFileSync(victim, "ORIGINAL CONTENT\n");
      const o = await a.run([
        WORK,
        sh(`ln -s ${victim} ef`),
        call("write_file", { path: "ef", content: "OVERWRITTEN\n" }),
        call("edit_file", { path: "ef", search: "ORIGINAL", replace: "EDITED" }),
      ]);
      expectRefused(o, resultOf(o, "write_file", 1), "write_file ef");
      expectRefused(o, resultOf(o, "edit_file", 0), "edit_file ef");
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  it(
    "class 6 · write_file through an intermediate directory symlink (existing or dangling) creates nothing outside",
    async () => {
      mkdirSync(join(a.tmp, "dir"));
      const o = await a.run([
        WORK,
        sh(`ln -s ${a.tmp}/dir d && ln -s ${a.tmp}/newdir dd && ln -s ${a.tmp} top`),
        call("write_file", { path: "d/x", content: "x\n" }),
        call("write_file", { path: "dd/x", content: "x\n" }),
        call("write_file", { path: "top/dir/deeper/x", content: "x\n" }),
      ]);
      for (let i = 1; i <= 3; i++) expectRefused(o, resultOf(o, "write_file", i), `write_file #${i}`);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  it(
    "class 6 · read_file of a symlink (or a link through a directory symlink, or a hard link) to GIMO's secrets reads nothing",
    async () => {
      const d = a.g.db.dataDir;
      const o = await a.run([
        WORK,
        sh(`ln -s ${d}/vault.key k && ln -s ${d} dl && ln -s ${d}/gimo.db db; ln ${d}/vault.key hk; ls -la`),
        call("read_file", { path: "k" }),
        call("read_file", { path: "dl/vault.key" }),
        call("read_file", { path: "db" }),
        call("read_file", { path: "hk" }),
        call("edit_file", { path: "k", search: "=", replace: "=" }),
      ]);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  it(
    "class 6 · list_files and search through a directory symlink to GIMO's data dir show nothing of it",
    async () => {
      const d = a.g.db.dataDir;
      const o = await a.run([
        WORK,
        sh(`ln -s ${d} ld`),
        call("list_files", { path: "ld", depth: 3 }),
        call("list_files", { path: ".", depth: 6 }),
        call("search", { pattern: "ESC-", path: "ld" }),
        call("search", { pattern: "ESC-DB-CANARY", path: "." }),
      ]);
      for (const r of o.results.filter((x) => x.tool === "list_files" || x.tool === "search")) {
        expect
          .soft(r.content, "the data dir's entries were listed")
          .not.toMatch(/vault\.key|gimo\.db|gimo\.sqlite/);
      }
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  it.each([
    ["write_file", call("write_file", { path: "pipe", content: "x\n" }), "read"],
    ["edit_file", call("edit_file", { path: "pipe", search: "x", replace: "y" }), "write"],
  ] as const)(
    "class 6 · %s on a FIFO the agent made answers at once (no hung tool, no stuck runner)",
    async (tool, attack, unblockBy) => {
      let fifo = "";
      const o = await a.run(
        [
          WORK,
          sh("mkfifo pipe && ls -la pipe"),
          {
            host: () => {
              fifo = join(workspaceOf(a.g.db.dataDir), "pipe");
            },
          },
          attack,
          call("write_file", { path: "after.txt", content: "the run went on\n" }),
        ],
        { waitMs: 20_000, onTimeout: () => unblock(fifo, unblockBy) },
      );
      expectRefused(o, resultOf(o, tool, tool === "write_file" ? 1 : 0), `${tool} on the FIFO`);
      expect
        .soft(
          o.results.some((r) => r.content.startsWith("wrote after.txt")),
          "the run went on after the FIFO",
        )
        .toBe(true);
      await expectContained(a, o);
    },
    TIMEOUT,
  );
});

/** Opens the other end of a FIFO GIMO is blocked on, so a hung tool call can finish (cleanup). */
function unblock(fifo: string, as: "read" | "write"): void {
  if (!fifo) return;
  try {
    const fd = openSync(
      fifo,
      (as === "read" ? constants.O_RDONLY : constants.O_WRONLY) | constants.O_NONBLOCK,
    );
    setTimeout(() => closeSync(fd), 500);
  } catch {
    // nobody on the other end: nothing to unblock
  }
}
