import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GimoError } from "../../core/errors.ts";
import { DEFAULT_SANDBOX_LIMITS } from "../../core/sandbox-limits.ts";
import { detectCgroups } from "./cgroups.ts";
import { handOver, sandboxUser } from "./identity.ts";
import { createSandbox, type Sandbox, type SandboxSpec } from "./sandbox.ts";

/**
 * The sandbox against the real bubblewrap: what a command can and cannot touch. Every "cannot" is
 * checked from outside too (the file is absent on the host, the listener saw no connection), and
 * each has a sibling "can" so a sandbox that simply breaks everything fails the suite.
 */
const hasBwrap = (() => {
  try {
    execFileSync("bwrap", ["--ro-bind", "/", "/", "--unshare-all", "--", "/bin/true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasBwrap && process.env.CI === "true") throw new Error("bubblewrap is required on CI");

let root: string; // outside /tmp, so /tmp's privacy does not hide a write outside the workspace
let ws: string;
const sandbox = createSandbox("on");
const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  workspace: ws,
  network: false,
  timeoutMs: 10_000,
  outputCapBytes: 100_000,
  ...over,
});

const user = sandboxUser();

beforeAll(async () => {
  root = mkdtempSync(join(existsSync("/var/tmp") ? "/var/tmp" : tmpdir(), "gimo-sandbox-"));
  chmodSync(root, 0o755); // so "readable by the sandbox user, yet masked" can be told from "unreachable"
  ws = join(root, "ws");
  mkdirSync(ws);
  if (user) await handOver(ws, user);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!hasBwrap)("the bubblewrap sandbox", () => {
  it("writes inside the workspace, but not next to it, nor in /etc", async () => {
    const r = await sandbox.run(
      "echo in > inside.txt && echo out > ../outside.txt; echo x > /etc/gimo-test; exit 0",
      spec(),
    );
    expect(readFileSync(join(ws, "inside.txt"), "utf8")).toBe("in\n");
    expect(existsSync(join(root, "outside.txt"))).toBe(false);
    expect(existsSync("/etc/gimo-test")).toBe(false);
    expect(r.output).toMatch(/outside\.txt: Read-only file system/);
    expect(r.output).toMatch(/gimo-test: Read-only file system/);
  });

  it("keeps a workspace under /tmp writable while the rest of /tmp is private", async () => {
    const tmpWs = mkdtempSync(join(tmpdir(), "gimo-sandbox-ws-"));
    if (user) await handOver(tmpWs, user);
    const marker = `gimo-private-${process.pid}-${Date.now()}`;
    try {
      const r = await sandbox.run(
        `echo ok > result && echo leak > /tmp/${marker} && cat /tmp/${marker}`,
        spec({ workspace: tmpWs }),
      );
      expect(r.exitCode).toBe(0);
      expect(r.output).toBe("leak\n"); // written inside…
      expect(existsSync(join("/tmp", marker))).toBe(false); // …to a /tmp nobody else sees
      expect(readFileSync(join(tmpWs, "result"), "utf8")).toBe("ok\n");
    } finally {
      rmSync(tmpWs, { recursive: true, force: true });
    }
  });

  it("never reaches the host's loopback, network on or off", async () => {
    const server = await listen();
    const port = (server.address() as { port: number }).port;
    let connections = 0;
    server.on("connection", (s) => {
      connections++;
      s.end();
    });
    const dial = `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`;
    try {
      for (const network of [false, true]) {
        const r = await sandbox.runArgv(["bash", "-c", dial], spec({ network }));
        expect(r.exitCode).not.toBe(0);
        expect(r.output).not.toContain("connected");
      }
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it("with network on, goes out only through the egress proxy, which applies the allowlist", async () => {
    let hits = 0;
    const web = createHttpServer((_req, res) => {
      hits++;
      res.end("hello from the host\n");
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", () => r()));
    const port = (web.address() as { port: number }).port;
    // --noproxy "": through the proxy even for localhost (which is the sandbox's own loopback otherwise).
    const curl = (host: string) =>
      `curl -sS --noproxy "" --max-time 5 http://${host}:${port}/ ; echo " exit=$?"`;
    try {
      // Loopback is never "public": refused with no allowlist, and through an allowlist wildcard.
      const open = await sandbox.run(curl("localhost"), spec({ network: true }));
      expect(open.output).toMatch(/refused: localhost resolves to 127\.0\.0\.1|403/);
      const unlisted = await sandbox.run(curl("localhost"), spec({ network: true, egress: ["example.com"] }));
      expect(unlisted.output).toMatch(/not in the project's egress allowlist/);
      expect(hits).toBe(0);
      // An entry naming the host exactly is the admin's word: that one may be private or loopback.
      const named = await sandbox.run(curl("localhost"), spec({ network: true, egress: ["localhost"] }));
      expect(named.output).toContain("hello from the host");
      expect(named.output).toMatch(/egress: GET http:\/\/localhost:\d+\/ \(127\.0\.0\.1\) allowed/);
      expect(hits).toBe(1);
      // Without network, there is no proxy to talk to at all.
      const none = await sandbox.run(curl("localhost"), spec({ egress: ["localhost"] }));
      expect(none.output).not.toContain("hello from the host");
      expect(hits).toBe(1);
    } finally {
      web.close();
    }
  });

  it("never passes GIMO's environment, only the env given", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      OPENAI_API_KEY: "sk-test-leak",
      GIMO_MASTER_KEY: "master-leak",
      ORCH_ADMIN_TOKEN: "tok-leak",
    });
    try {
      const r = await sandbox.run("env", spec({ env: { GIVEN: "yes" } }));
      expect(r.output).not.toMatch(/leak|OPENAI_API_KEY|GIMO_MASTER_KEY|ORCH_ADMIN_TOKEN/);
      expect(r.output).toContain("GIVEN=yes");
      expect(r.output).toContain("HOME=/tmp");
    } finally {
      process.env = saved;
    }
  });

  it("masks runtime sockets under /run and credential files of GIMO's home", async () => {
    const sock = `/run/gimo-test-${process.pid}.sock`;
    const server = await listen(sock).catch(() => undefined);
    const home = join(root, "home");
    mkdirSync(join(home, ".ssh"), { recursive: true });
    writeFileSync(join(home, ".ssh", "id_ed25519"), "PRIVATE KEY");
    writeFileSync(join(home, ".netrc"), "machine x password hunter2");
    writeFileSync(join(home, "notes.txt"), "not a secret");
    const masked = createSandbox("on", { home });
    try {
      const r = await masked.run(
        `cat ${home}/notes.txt; cat ${home}/.ssh/id_ed25519 ${home}/.netrc; ls /run`,
        spec(),
      );
      expect(r.output).toContain("not a secret");
      expect(r.output).not.toMatch(/PRIVATE KEY|hunter2/);
      if (server) {
        const probe = `require("net").connect(${JSON.stringify(sock)}).on("connect",()=>console.log("reached")).on("error",e=>console.log(e.code))`;
        const inside = await masked.runArgv([process.execPath, "-e", probe], spec());
        expect(inside.output.trim()).toBe("ENOENT");
      }
    } finally {
      server?.close();
    }
  });

  it("hides a directory but keeps the workspace inside it", async () => {
    const data = join(root, "data");
    const inner = join(data, "work", "ws1");
    mkdirSync(inner, { recursive: true });
    if (user) await handOver(inner, user);
    writeFileSync(join(data, "vault.key"), "SECRET-KEY");
    writeFileSync(join(data, "work", "mirror.db"), "SECRET-DB");
    const hiding = createSandbox("on", { hide: [data] });
    const r = await hiding.run(
      `cat ${data}/vault.key ${data}/work/mirror.db; echo made > here.txt`,
      spec({ workspace: inner }),
    );
    expect(r.output).not.toMatch(/SECRET/);
    expect(readFileSync(join(inner, "here.txt"), "utf8")).toBe("made\n");
  });

  it("drops every capability", async () => {
    const r = await sandbox.run("grep CapEff /proc/self/status", spec());
    expect(r.output).toMatch(/CapEff:\s+0+\n/);
  });

  it("kills a command at its timeout, background children included", async () => {
    const r = await sandbox.run("(sleep 1; echo late > late.txt) & sleep 100", spec({ timeoutMs: 300 }));
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(r.durationMs).toBeLessThan(3_000);
    await new Promise((res) => setTimeout(res, 1_500));
    expect(existsSync(join(ws, "late.txt"))).toBe(false);
  });

  it("caps the output while streaming, keeping head and tail", async () => {
    const chunks: string[] = [];
    const r = await sandbox.run(
      "yes | head -c 10000000; echo; echo THE-END",
      spec({ outputCapBytes: 10_000 }),
      {
        onOutput: (c) => chunks.push(c),
      },
    );
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(true);
    expect(r.output.length).toBeLessThan(10_100);
    expect(r.output.startsWith("y\ny\n")).toBe(true);
    expect(r.output).toMatch(/…\[\d+ bytes cut\]…/);
    expect(r.output.trimEnd().endsWith("THE-END")).toBe(true);
    expect(chunks.join("").length).toBeLessThan(10_200); // the live stream is capped too
  });

  it("stops a command when the signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await sandbox.run("sleep 100", spec(), { signal: ac.signal });
    expect(r.durationMs).toBeLessThan(3_000);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode === 0).toBe(false);
  });

  it("reports exit codes, interleaves stdout and stderr, and runs in cwd", async () => {
    mkdirSync(join(ws, "sub"), { recursive: true });
    const r = await sandbox.run(
      "echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; pwd; exit 3",
      spec({ cwd: "sub" }),
    );
    expect(r.exitCode).toBe(3);
    expect(r.output).toBe(`one\ntwo\nthree\n${join(ws, "sub")}\n`);
    await expect(sandbox.run("true", spec({ cwd: "../.." }))).rejects.toThrow(/outside the workspace/);
  });

  it("passes argv through literally", async () => {
    const r = await sandbox.runArgv(["printf", "%s|", "a b", "$HOME", "'q'"], spec());
    expect(r.output).toBe("a b|$HOME|'q'|");
  });

  it("runs unprivileged: not root, no capabilities, no_new_privs, in a user namespace", async () => {
    const r = await sandbox.run(
      "id -u; grep -E '^(NoNewPrivs|CapEff)' /proc/self/status; readlink /proc/self/ns/user",
      spec(),
    );
    const [uid] = r.output.split("\n");
    expect(Number(uid)).not.toBe(0);
    if (user) expect(Number(uid)).toBe(user.uid);
    expect(r.output).toMatch(/NoNewPrivs:\s+1/);
    expect(r.output).toMatch(/CapEff:\s+0+\n/);
    const hostUserNs = execFileSync("readlink", ["/proc/self/ns/user"], { encoding: "utf8" }).trim();
    expect(r.output).toMatch(/user:\[\d+\]/);
    expect(r.output).not.toContain(hostUserNs);
    await sandbox.run("echo mine > owned.txt", spec());
    expect(statSync(join(ws, "owned.txt")).uid).toBe(user ? user.uid : process.getuid?.());
  });

  it("reaches a workspace under directories the sandbox user may not enter, and shows nothing else of them", async () => {
    const closed = join(root, "closed");
    const inner = join(closed, "deeper", "ws");
    mkdirSync(inner, { recursive: true });
    chmodSync(closed, 0o700);
    writeFileSync(join(closed, "secret.txt"), "CLOSED-SECRET\n");
    if (user) await handOver(inner, user);
    const r = await sandbox.run(
      `pwd; echo made > made.txt; ls -a ${closed}; cat ${closed}/secret.txt`,
      spec({ workspace: inner }),
    );
    expect(r.output).toContain(`${inner}\n`);
    // Closed to the dedicated sandbox user (GIMO is root): it sees an empty directory there.
    if (user) expect(r.output).not.toContain("CLOSED-SECRET");
    expect(readFileSync(join(inner, "made.txt"), "utf8")).toBe("made\n");
  });

  it("bounds processes, memory, file size and open files", async () => {
    const limits = {
      ...DEFAULT_SANDBOX_LIMITS,
      max_processes: 64,
      max_memory_mb: 256,
      max_file_mb: 5,
      max_open_files: 100,
    };
    const fork = await sandbox.run(
      `python3 -c '
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(2); os._exit(0)
        n += 1
except OSError as e:
    print("forks stopped at", n)
'`,
      spec({ limits }),
    );
    expect(fork.output).toMatch(/forks stopped at (\d+)/);
    expect(Number(/forks stopped at (\d+)/.exec(fork.output)?.[1])).toBeLessThan(64);
    const memory = await sandbox.run(
      `python3 -c 'b = bytearray(512 * 1024 * 1024)' 2>&1 | tail -1`,
      spec({ limits }),
    );
    expect(memory.output).toContain("MemoryError");
    const big = await sandbox.run("head -c 20000000 /dev/zero > big.bin; echo exit=$?", spec({ limits }));
    expect(statSync(join(ws, "big.bin")).size).toBe(5 * 1024 * 1024);
    expect(big.output).not.toContain("exit=0");
    const files = await sandbox.run("ulimit -n; ulimit -Hn", spec({ limits }));
    expect(files.output).toBe("100\n100\n");
  });
});

describe.skipIf(!hasBwrap)("the workspace's size", () => {
  it("stops a command whose workspace grows past max_workspace_mb", async () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, max_workspace_mb: 24 };
    const r = await sandbox.run(
      "mkdir -p junk && for i in $(seq 1 30); do head -c 4194304 /dev/urandom > junk/f$i; sleep 0.1; done; echo wrote all",
      spec({ limits }),
    );
    expect(r.limitExceeded).toBe("max_workspace_mb");
    expect(r.output).toMatch(/stopped: the workspace holds \d+ MB, more than max_workspace_mb 24/);
    expect(r.output).not.toContain("wrote all");
    const written = readdirSync(join(ws, "junk")).length;
    expect(written).toBeLessThan(30);
    rmSync(join(ws, "junk"), { recursive: true, force: true });
    // Under the limit, nothing happens.
    const small = await sandbox.run("head -c 1048576 /dev/urandom > one.bin; echo ok", spec({ limits }));
    expect(small.limitExceeded).toBeUndefined();
    expect(small.output).toBe("ok\n");
  });
});

describe.skipIf(!hasBwrap)("cgroups", () => {
  it("cap the memory and processes of a command's processes together, where the host allows", async (t) => {
    const cgroups = await detectCgroups(undefined);
    if (!cgroups)
      return t.skip("no cgroups GIMO may create here (needs root on cgroup v1, or GIMO_SANDBOX_CGROUP)");
    const limits = { ...DEFAULT_SANDBOX_LIMITS, max_memory_mb: 256, max_processes: 200 };
    // Four processes of 150 MB each: every one is within its rlimit, together they are not.
    const r = await sandbox.run(
      `pids=""; for i in 1 2 3 4; do python3 -c 'import time; b = bytearray(150 * 1024 * 1024); time.sleep(3)' & pids="$pids $!"; done
       for p in $pids; do wait $p; echo "status $?"; done`,
      spec({ limits }),
    );
    const statuses = [...r.output.matchAll(/status (\d+)/g)].map((m) => Number(m[1]));
    expect(statuses).toHaveLength(4);
    expect(statuses.filter((s) => s === 0).length).toBeLessThan(4); // not all four fit in 256 MB
    expect(statuses.filter((s) => s === 0).length).toBeGreaterThan(0); // but one does: it is not a blanket refusal
    const mine = readFileSync("/proc/self/cgroup", "utf8");
    expect(mine).not.toContain("gimo-"); // GIMO itself never joins a command's cgroup
  });
});

describe("without bubblewrap", () => {
  it("refuses every run with a clear error when bwrap is missing", async () => {
    const missing = createSandbox("on", { bwrapPath: "/nonexistent/bwrap" });
    const error = await missing
      .run("true", { workspace: tmpdir(), network: false, timeoutMs: 1_000, outputCapBytes: 1_000 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(GimoError);
    expect(error).toBeInstanceOf(GimoError);
    expect((error as GimoError).code).toBe("unavailable");
    expect((error as GimoError).message).toMatch(/install bubblewrap/i);
    expect((error as GimoError).message).toMatch(/GIMO_SANDBOX=off/);
  });

  it("refuses when bwrap fails its self-check", async () => {
    const broken = join(root, "fake-bwrap");
    writeFileSync(broken, "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n", {
      mode: 0o755,
    });
    const sb = createSandbox("on", { bwrapPath: broken });
    await expect(sb.run("true", spec())).rejects.toThrow(/self-check: bwrap: No permissions/);
  });
});

describe("GIMO_SANDBOX=off", () => {
  let off: Sandbox;
  const warnings: string[] = [];
  beforeAll(() => {
    off = createSandbox("off", { warn: (m) => warnings.push(m) });
  });

  it("runs directly, warns on every run, and still cleans the env and enforces limits", async () => {
    process.env.OPENAI_API_KEY = "sk-off-leak";
    try {
      const a = await off.run("echo $OPENAI_API_KEY; echo $HOME", spec());
      expect(a.output).toBe("\n/tmp\n");
      await off.run("true", spec());
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(/without a sandbox/);
      const slow = await off.run("(sleep 1; echo late > late-off.txt) & sleep 100", spec({ timeoutMs: 300 }));
      expect(slow.timedOut).toBe(true);
      expect(slow.durationMs).toBeLessThan(3_000);
      await new Promise((res) => setTimeout(res, 1_500));
      expect(existsSync(join(ws, "late-off.txt"))).toBe(false);
      const big = await off.run("yes | head -c 1000000", spec({ outputCapBytes: 1_000 }));
      expect(big.truncated).toBe(true);
      expect(big.output.length).toBeLessThan(1_100);
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
  });

  it("answers 127 for a binary that does not exist", async () => {
    const r = await off.runArgv(["/nonexistent/tool"], spec());
    expect(r.exitCode).toBe(127);
    expect(r.output).toMatch(/ENOENT/);
  });
});

function listen(path?: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    if (path) server.listen(path, () => resolve(server));
    else server.listen(0, "127.0.0.1", () => resolve(server));
  });
}
