import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { admitsAddress } from "../src/core/egress-policy.ts";
import {
  type Arena,
  allObjects,
  blobSizes,
  call,
  expectContained,
  expectFailed,
  type Outcome,
  py,
  remoteRefs,
  sh,
  startArena,
  workspaceOf,
} from "./support/attacker.ts";
import { unblockFifo, watchApi, watchFds } from "./support/review.ts";

/**
 * The escape suite, second review: attacks that got through the first hardening, each now closed,
 * and classes of attack the first suite did not cover.
 *
 * Every test is one attack played by the scripted executor model (support/attacker.ts) against a
 * real GIMO as root (commands as uid 64999, bubblewrap, cgroups v1), observed from the host. Each
 * comment says what broke and how it was closed.
 *
 * Three of the holes shared one root cause: GIMO's own walks over the workspace (the pre-commit
 * check, the size check, the hand-over's chown) read directory entries as JavaScript strings. A
 * name that is not UTF-8 came back with U+FFFD in it: joined back into a path, it named nothing
 * (the entry silently skipped or counted as 0 bytes) or — when the agent also made an entry whose
 * name IS that lossy spelling — the other entry. The same went for paths longer than PATH_MAX,
 * which git (relative paths) reads and Node (absolute paths) could not. The walks now go by bytes
 * through directory descriptors (workspace/tree-walk.ts), fail closed, and names that are not
 * UTF-8 are refused before anything else.
 */
const exec = promisify(execFile);
const WORK = call("write_file", { path: "notes.txt", content: "some honest work\n" });
const TIMEOUT = 120_000;
const WALL = 15;

async function patchProject(a: Arena, body: Record<string, unknown>): Promise<void> {
  const r = await a.g.request("PATCH", `/ops/projects/${a.g.projectId}`, { body });
  expect(r.status, r.text).toBe(200);
}

const outputOf = (o: Outcome, n: number) =>
  o.results.filter((r) => r.tool === "run_command")[n]?.content ?? "";

describe("escape review: found open, now closed", () => {
  let a: Arena;
  beforeEach(async () => {
    a = await startArena();
  });
  afterEach(async () => {
    await a?.close();
  });

  // ── R1: the whole object store ──────────────────────────────────────────────────────────────────
  //
  // The agent's `.git` borrows history through `objects/info/alternates` → /gimo/git-objects, a
  // read-only bind of the repository's ENTIRE object store (layout.ts, agent-repo.ts). For a
  // `repo_path` project that is the user's own repository: every local branch never pushed, the
  // stash, commits only in the reflog. `git cat-file --batch-all-objects` lists them all; the agent
  // copies what it finds into the worktree and GIMO commits and pushes it. The user's repository
  // may sit in a 0700 directory — the bind mount opens exactly the part that matters.
  //
  // Fix: show the agent only the history of the commit it starts from — e.g. give the agent repo
  // its own objects (`git pack-objects --revs` of startSha and the base, or a shallow clone of
  // just those refs) instead of an alternate on the whole store; or run `repo_path` projects from
  // a mirror that fetches only the base and task branches.
  it(
    "R1 · the agent's git holds its branch's history only: an unpushed local branch can be neither read nor pushed",
    async () => {
      const o = await a.run([
        WORK,
        // What an agent that does not know the secret does: dump every object its own refs do not reach.
        sh(
          "mkdir -p loot && git rev-list --objects --all | cut -d' ' -f1 | sort > /tmp/mine && " +
            "git cat-file --batch-all-objects --batch-check='%(objectname) %(objecttype)' | " +
            "while read sha type; do grep -q $sha /tmp/mine || { [ $type = blob ] && git cat-file -p $sha > loot/$sha; }; done; " +
            "grep -rl ESC-PRIVATE loot",
        ),
      ]);
      expect.soft(outputOf(o, 0), "the command found the private branch's blob").not.toMatch(/loot\//);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  // ── R2: the commit limit ────────────────────────────────────────────────────────────────────────
  //
  // `checkSize` (commit.ts) asks git for the new and changed paths with `-z`, decodes them as
  // UTF-8 and lstat()s each: a name with a byte that is not UTF-8 becomes U+FFFD, the lstat finds
  // nothing, the file counts 0 bytes — and `git add -A` then adds the real file whole. Any size up
  // to max_file_mb per file, any number of files: max_commit_mb does not hold.
  //
  // Fix: keep git's output as a Buffer and lstat the raw bytes, failing closed when a path cannot
  // be stat'ed (so `git add` never writes an oversized blob into the user's object store); and,
  // as the check that counts, sum the sizes of the blobs the new tree adds (`diff-tree -r -z` from
  // startSha + `cat-file --batch-check`) before `commit-tree` — that is exactly what gets pushed.
  it(
    "R2 · max_commit_mb: a 3 MB file under a name that is not UTF-8, or deeper than PATH_MAX, never reaches the remote under a 1 MB limit",
    async () => {
      await patchProject(a, { sandbox: { network: false, limits: { max_commit_mb: 1 } } });
      const o = await a.run([
        WORK,
        py(`import os
open(b'big-\\xff.bin', 'wb').write(os.urandom(3 * 1024 * 1024))
print(sorted(os.listdir(b'.')))`),
      ]);
      // Refused before git reads the worktree: a name that is not UTF-8 is never committed.
      expectFailed(o, "policy_refused", /not UTF-8/);
      const deep = await a.run([
        WORK,
        // The first estimate cannot stat a path this deep from the host; the tree's blobs still count.
        py(`import os
for i in range(20):
    os.mkdir('${"d".repeat(202)}')
    os.chdir('${"d".repeat(202)}')
open('big.bin', 'wb').write(os.urandom(3 * 1024 * 1024))`),
      ]);
      expectFailed(deep, "commit_too_large");
      const sizes = await blobSizes(a.g.repo.remotePath);
      expect
        .soft(Math.max(0, ...sizes), "a blob over max_commit_mb reached the remote")
        .toBeLessThan(1024 * 1024);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  // ── R3: GIMO's git blocked on a FIFO the pre-commit check did not see ───────────────────────────
  //
  // `refuseUntrustedEntries` refuses a FIFO named `.gitignore` — but only where its walk can read
  // the directory. Inside a directory whose name is not UTF-8 (readdir answers a lossy name, the
  // next readdir ENOENT) or deeper than PATH_MAX from the host's absolute path (ENAMETOOLONG; git
  // uses paths relative to the worktree and still gets there), the walk skips silently ("git will
  // not read it either" — it does). `git ls-files --others --exclude-standard` then opens the FIFO
  // and blocks, for GIT's 10-minute timeout; `add -A` would block again.
  //
  // Worse, commit and push take no signal (deliver.ts, commit.ts, push.ts): the wall budget
  // ("a deadline on the whole run … within moments") and a cancel do nothing there. Here the run
  // is cancelled while blocked, the FIFO is then released — and GIMO commits and pushes the
  // cancelled run's branch anyway. (The same lossy/deep walk also misses nested `.git`s, later
  // caught as gitlinks, and with a lossy-name symlink twin — see R4 — walks host directories.)
  //
  // Fix: the walk as in the file header (bytes, descriptors, fail closed); give every host-side git
  // call of a run the run's signal and a deadline (kill git on abort), and check the signal between
  // commit, push and the pull request, so a cancelled or out-of-budget run never pushes.
  const SEG = "d".repeat(202);
  it.each([
    [
      "a directory whose name is not UTF-8",
      `os.mkdir(b'x\\xff')\nos.chdir(b'x\\xff')`,
      [Buffer.from([0x78, 0xff]), Buffer.from(".gitignore")],
    ],
    [
      "a directory deeper than PATH_MAX from the host's absolute path",
      `for i in range(20):\n    os.mkdir('${SEG}')\n    os.chdir('${SEG}')`,
      [...Array.from({ length: 20 }, () => Buffer.from(SEG)), Buffer.from(".gitignore")],
    ],
  ] as const)(
    "R3 · a FIFO .gitignore in %s never blocks GIMO's git: refused at once, nothing pushed",
    async (_where, descend, fifoPath) => {
      let ws = "";
      const o = await a.run(
        [
          WORK,
          py(
            `import os\n${descend}\nos.mkfifo('.gitignore')\nopen('f.txt', 'w').write('x')\nprint('fifo at depth', len(os.getcwd()))`,
          ),
          {
            host: () => {
              ws = workspaceOf(a.g.db.dataDir);
            },
          },
        ],
        {
          budgets: { max_wall_seconds: WALL },
          waitMs: (WALL + 20) * 1000,
          onTimeout: async () => {
            // Cancel first and let the runner see it (it polls every lease/3 s) — then release git.
            await cancelRunning(a);
            await new Promise((r) => setTimeout(r, 5_000));
            expect.soft(unblockFifo(ws, [...fifoPath]), "GIMO's git was not blocked on the FIFO").toBe(true);
          },
        },
      );
      expect
        .soft(o.elapsedMs, "the run outlived max_wall_seconds by more than 6 s")
        .toBeLessThan((WALL + 6) * 1000);
      // Refused at once by the walk before GIMO's git (a FIFO .gitignore, or a name not UTF-8).
      expectFailed(o, "policy_refused");
      const branch = (await remoteRefs(a.g.repo.remotePath)).get(`task/${o.run.task_id}`);
      expect.soft(branch, "a run cancelled before its commit pushed its branch").toBeUndefined();
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  // ── R4: the hand-over chown follows a symlink ───────────────────────────────────────────────────
  //
  // When GIMO is root, `handOver` (identity.ts) chowns the fresh worktree to the sandbox user,
  // "never following a symlink": readdir withFileTypes, lchown, recurse into directories. Run 1
  // commits a directory named `d\xff` (not UTF-8) and a symlink named `d\uFFFD` (valid UTF-8: the
  // lossy spelling of the first) → a host directory. Run 2 of the same task checks the branch out
  // and hands it over: readdir answers "d\uFFFD" twice, once as a directory; `handOver(join(dir,
  // "d\uFFFD"))` lchowns the symlink, then `readdir` FOLLOWS it and lchowns everything in the host
  // directory, recursively, to uid 64999. A root-only directory visible in the sandbox (here one
  // under /work, as /etc/ssl or /var/lib would be) becomes readable to every later command: run 2
  // reads the root-only secret. (Run 1's pre-commit walk follows the same twin — read-only.)
  // Aimed at `/`, the same two entries make GIMO, as root, chown the whole host filesystem to
  // 64999 — every root-only file then readable in later sandboxes, setuid bits cleared (chown drops
  // them), sudo/sshd refusing their now foreign-owned files. Not tried here, for obvious reasons.
  //
  // Fix: the walk as in the file header — bytes, and `fchownat(dirfd, name, AT_SYMLINK_NOFOLLOW)`
  // / `openat(O_NOFOLLOW|O_DIRECTORY)` through descriptors (or `chown -R -P` run as a child), and
  // refuse to commit names that are not UTF-8.
  it(
    "R4 · the hand-over of a reused branch never follows a lossy-name symlink twin to a host directory; no root-only file becomes readable",
    async () => {
      const here = fileURLToPath(new URL(".", import.meta.url));
      const root = mkdtempSync(join(here, ".escape-review-"));
      try {
        chmodSync(root, 0o755);
        const outer = join(root, "outer");
        const priv = join(outer, "private");
        mkdirSync(priv, { recursive: true, mode: 0o700 });
        chmodSync(outer, 0o755);
        chmodSync(priv, 0o700);
        const secretFile = join(priv, "secret.txt");
        const secret = `ESC-ROOT-ONLY-${Date.now()}`;
        writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
        const first = await a.run([
          WORK,
          sh(`cat ${secretFile} || echo DENIED`),
          py(`import os
os.mkdir(b'd\\xff')
open(b'd\\xff/keep.txt', 'w').write('keep\\n')
os.symlink(${JSON.stringify(outer)}, 'd\\ufffd')
print(os.listdir(b'.'))`),
        ]);
        expect.soft(outputOf(first, 0), "control: the secret is root-only before").not.toContain(secret);
        await expectContained(a, first);
        const second = await a.run(
          [
            sh(`cat ${secretFile} || echo DENIED`),
            call("write_file", { path: "again.txt", content: "run 2\n" }),
          ],
          { sameTaskAs: first },
        );
        expect.soft(statSync(priv).uid, "GIMO chowned a host directory to the sandbox user").toBe(0);
        expect.soft(statSync(secretFile).uid, "GIMO chowned a host file to the sandbox user").toBe(0);
        expect.soft(outputOf(second, 0), "the next run read a root-only host file").not.toContain(secret);
        await expectContained(a, second, { since: first.run.result?.head_sha });
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  // ── R5: the egress proxy has no connection limit ────────────────────────────────────────────────
  //
  // With network on (and always for an agent CLI, which reaches its model API through the proxy),
  // /run/gimo/egress.sock is GIMO's own proxy, in GIMO's own process. Every connection to it is a
  // descriptor of GIMO's, and nothing caps them: max_open_files is per sandboxed process, and a
  // command has up to max_processes of them. Six processes × 3,900 idle connections exhaust GIMO's
  // RLIMIT_NOFILE (20,000 here): GIMO's process gets EMFILE on every open/accept — its API stops
  // answering, its database, logs, git and other runs' sandboxes fail — for as long as the command
  // holds them (up to its timeout; it can reconnect).
  //
  // Fix: a per-session cap in the proxy (`server.maxConnections`, a few hundred) and a short idle
  // timeout for connections that send no request (`headersTimeout`/`requestTimeout`/
  // `socket.setTimeout`); better, run the proxy in a child process with its own descriptor limit,
  // so exhausting it never touches GIMO.
  it(
    "R5 · egress: one command's idle connections cannot exhaust GIMO's descriptors; GIMO's API keeps answering",
    async () => {
      await patchProject(a, { sandbox: { network: true } });
      const fds = watchFds();
      const api = watchApi(a.g.url, a.g.tokens.operator);
      const base = fds.peak();
      let o: Outcome;
      let codes: string[] = [];
      try {
        o = await a.run(
          [
            WORK,
            py(
              `import os, socket, time
kids = []
for k in range(6):
    pid = os.fork()
    if pid == 0:
        held, err = [], ''
        try:
            while len(held) < 3900:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                for i in range(300):
                    try:
                        s.connect('/run/gimo/egress.sock')
                        break
                    except BlockingIOError:
                        time.sleep(0.01)
                else:
                    raise OSError('gave up')
                held.append(s)
        except OSError as e:
            err = repr(e)
        print('process', k, 'holds', len(held), err, flush=True)
        time.sleep(8)
        os._exit(0)
    kids.append(pid)
for p in kids:
    os.waitpid(p, 0)`,
              { timeoutSeconds: 60 },
            ),
          ],
          { budgets: { max_wall_seconds: 120 }, waitMs: 100_000 },
        );
      } finally {
        fds.stop();
        codes = await api.stop();
      }
      expect.soft(fds.emfile(), "GIMO's process ran out of file descriptors (EMFILE)").toBe(0);
      expect
        .soft(fds.peak() - base, "one command made GIMO hold more descriptors than a sandboxed process may")
        .toBeLessThan(4096);
      expect
        .soft(
          codes.filter((c) => c !== "200").length,
          `GIMO's API did not answer during the attack (${codes.join(" ")})`,
        )
        .toBe(0);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  // ── R6: an agent CLI's API key in the commit ────────────────────────────────────────────────────
  //
  // An agent CLI gets its model API key in its environment (agent-cli/*.ts `keyEnv`) — by design —
  // and the CLI is the hostile executor of the threat model (it reads prompt injections like any
  // model). It writes the key into the worktree; GIMO commits and pushes it: the provider key is on
  // the remote (maybe a public repository). docs/SECURITY.md: provider keys are never "a commit".
  //
  // Fix: do not hand the CLI the real key — give it a per-run placeholder and let the egress proxy
  // (which already sees every request to the API host) swap in the real Authorization/x-api-key
  // header; at least, refuse to commit a tree whose new blobs contain any secret GIMO knows (the
  // redactor's list: the CLI key, the forge token, provider keys).
  it(
    "R6 · agent CLI: the model API key GIMO hands the CLI, written into the worktree, is never committed or pushed",
    async () => {
      const key = `sk-ant-ESCAPE-${Date.now().toString(36)}-LEAKCHECK`;
      const cli = fileURLToPath(new URL("./support/hostile-agent-cli.sh", import.meta.url));
      const provider = { type: "openai_compat", base_url: a.model.url, model: "scripted" };
      const put = await a.g.request("PUT", "/ops/provider", {
        body: {
          planner: provider,
          executor: {
            type: "agent_cli",
            model: "sonnet",
            api_key: key,
            options: { cli: "claude", command: cli },
          },
        },
      });
      expect(put.status, put.text).toBe(200);
      const o = await a.run([]);
      expect
        .soft((await allObjects(a.g.repo.remotePath)).includes(key), "the CLI's API key was pushed")
        .toBe(false);
      await expectContained(a, o);
    },
    TIMEOUT,
  );

  // ── R8: no disk quota on the workspace ──────────────────────────────────────────────────────────
  //
  // Not a bypass of a written limit, an unbounded one: max_file_mb caps each file and /tmp, /dev/shm
  // are bounded tmpfs, but the workspace is a plain directory under GIMO's data dir, on the disk
  // that holds GIMO's database. A command writes as many max_file_mb files (or inodes) as it likes
  // — here 40 × 8 MB under max_file_mb 8 and max_commit_mb 8, bounded for the test; unbounded it
  // fills the disk and GIMO's SQLite writes, logs and every other run fail. The run later fails
  // commit_too_large, but the disk was full meanwhile.
  //
  // Fix: a quota for the sandbox uid (it owns every byte a command writes: a user/project quota on
  // the work dir's filesystem), or each worktree on its own size-limited filesystem (a loop-mounted
  // image or a tmpfs with `size=`), and the workspace's size checked after every command.
  it(
    "R8 · disk: a command that keeps filling the workspace is stopped at max_workspace_mb and the run fails",
    async () => {
      await patchProject(a, {
        sandbox: { network: false, limits: { max_file_mb: 8, max_commit_mb: 8, max_workspace_mb: 40 } },
      });
      let usedKb = 0;
      const o = await a.run(
        [
          WORK,
          sh(
            "mkdir -p junk && for i in $(seq 1 40); do head -c 8388608 /dev/urandom > junk/f$i || break; sleep 0.1; done; du -sm junk",
          ),
          {
            host: async () => {
              const { stdout } = await exec("du", ["-sk", workspaceOf(a.g.db.dataDir)]);
              usedKb = Number(stdout.split("\t")[0]);
            },
          },
        ],
        { waitMs: 90_000 },
      );
      // Stopped within a file or two past the limit (the watch reads the disk every 250 ms); the run
      // ends there, so the host step above never runs: the size is the one the sandbox measured.
      const held = Number(/the workspace holds (\d+) MB/.exec(o.logs)?.[1] ?? Number.NaN);
      expect.soft(held, "the workspace grew well past max_workspace_mb").toBeLessThan(40 + 24);
      expect.soft(usedKb, "the command was not stopped").toBe(0);
      expectFailed(o, "workspace_too_large");
      await expectContained(a, o);
    },
    TIMEOUT,
  );
});

/** Requests the cancellation of the arena's run in progress (the only one running). */
async function cancelRunning(a: Arena): Promise<void> {
  const list = await a.g.request("GET", "/ops/runs?limit=20");
  const running = (list.body?.items ?? []).find((r: { status: string }) => r.status === "running");
  expect(running, "no run in progress to cancel").toBeDefined();
  const r = await a.g.request("POST", `/ops/runs/${running.id}/cancel`, { body: { reason: "review" } });
  expect(r.status, r.text).toBeLessThan(300);
}

// ── R7: the egress policy's "host's own addresses" ─────────────────────────────────────────────────
//
// `admitsAddress` refuses the host's own addresses (`hostAddresses`, from networkInterfaces()) by
// comparing strings. An IPv6 literal is not resolved (the proxy uses it verbatim), so another
// spelling of the same address passes: `[2001:db8::1]` as `[2001:db8:0:0:0:0:0:1]`, and a public
// IPv4 address of the host as `[::ffff:a.b.c.d]` (the embedded address is public, the string is not
// the host's). The proxy then connects to it — and an IPv4-mapped address reaches the IPv4 service
// (checked below against a loopback listener). On a host with a public address, a command reaches
// every service of the host listening on all interfaces: GIMO's own API bound to 0.0.0.0, a database.
// This host has only reserved addresses (192.0.2.2, fd00::2: refused as non-public anyway), so the
// test shows the policy's verdict and the kernel's mapping rather than a full run.
//
// Fix: compare parsed addresses — normalise both sides (a `BlockList` of the host's addresses with
// `addAddress`, which also matches IPv4-mapped forms), and map `::ffff:a.b.c.d` to `a.b.c.d` before
// every check.
describe("escape review: found open, now closed (egress policy)", () => {
  it("R7 · the host's own address in another spelling is refused by the egress policy", async () => {
    const rules = { allow: [] as string[], hostAddresses: ["8.8.4.4", "2001:4860:4860::8844"] };
    for (const spelling of [
      "::ffff:8.8.4.4",
      "::ffff:808:404",
      "2001:4860:4860:0:0:0:0:8844",
      "2001:4860:4860:0000::8844",
    ]) {
      expect
        .soft(
          admitsAddress(rules, spelling, 9325, spelling).allowed,
          `the host's own ${spelling} was admitted`,
        )
        .toBe(false);
    }
    // Same family of bug in `isPublicAddress`: the NAT64 prefix is recognised only as `64:ff9b::…`,
    // so the expanded spelling of the loopback behind it is "public" (matters on NAT64 networks).
    expect
      .soft(
        admitsAddress({ allow: [] }, "x", 80, "64:ff9b:0:0:0:0:7f00:1").allowed,
        "64:ff9b:0:0:0:0:7f00:1 (NAT64 of 127.0.0.1) was admitted",
      )
      .toBe(false);
    // The mapped spelling reaches the IPv4 service.
    const server = createServer((s: Socket) => s.end("reached"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      const answer = await new Promise<string>((resolve) => {
        const c = netConnect({ host: "::ffff:127.0.0.1", port });
        let got = "";
        c.on("data", (d) => {
          got += String(d);
        });
        c.on("close", () => resolve(got));
        c.on("error", () => resolve("error"));
      });
      expect(answer, "the kernel maps ::ffff:a.b.c.d to a.b.c.d").toBe("reached");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("escape review: stopped", () => {
  let a: Arena;
  let listener: Server;
  let port = 0;
  let connections = 0;
  beforeEach(async () => {
    a = await startArena({ network: true });
    connections = 0;
    listener = createServer((s: Socket) => {
      connections++;
      s.on("error", () => {});
      s.end("HTTP/1.1 200 OK\r\ncontent-length: 12\r\nconnection: close\r\n\r\nHOST SERVICE");
    });
    await new Promise<void>((r) => listener.listen(0, "0.0.0.0", r));
    port = (listener.address() as { port: number }).port;
  });
  afterEach(async () => {
    await new Promise<void>((r) => listener.close(() => r()));
    await a?.close();
  });

  // The proxy resolves every name itself and checks the address it connects to: decimal, octal,
  // hex and short IPv4 forms, /etc/hosts names (localhost, the machine's own names), IPv4-mapped,
  // expanded and compatible IPv6 loopbacks, the host's interface addresses, plain-HTTP requests
  // whose Host header differs from the URL, and a second request smuggled behind the first (CL/TE)
  // — none reaches a service listening on all of the host's interfaces.
  it("S1 · egress: loopback in every spelling, /etc/hosts names, Host-header mismatch and smuggled requests never reach the host", async () => {
    const targets = [
      "2130706433",
      "0177.0.0.1",
      "0x7f.1",
      "127.1",
      "0",
      "localhost",
      "LOCALHOST",
      "vm",
      "runsc",
      "[::1]",
      "[::ffff:127.0.0.1]",
      "[0:0:0:0:0:ffff:7f00:1]",
      "[::ffff:7f00:1]",
      "[::127.0.0.1]",
      "192.0.2.2",
      "[fd00::2]",
      "[fe80::fc:ff:fe00:1]",
      "0.0.0.0",
      "[::]",
      "127.0.0.1",
    ];
    const o = await a.run([
      WORK,
      py(
        `import socket, time
P = ${port}
def ask(raw):
    s = socket.create_connection(('127.0.0.1', 3128), timeout=5)
    s.sendall(raw.encode())
    time.sleep(0.3)
    try:
        return s.recv(4000)
    except Exception as e:
        return repr(e).encode()
    finally:
        s.close()
for t in ${JSON.stringify(targets)}:
    print('CONNECT', t, ask('CONNECT %s:%d HTTP/1.1\\r\\nHost: %s:%d\\r\\n\\r\\n' % (t, P, t, P)).split(b'\\r\\n')[0])
for u in ['127.0.0.1', '2130706433', '[::ffff:127.0.0.1]', '0x7f000001', 'localhost']:
    print('GET', u, ask('GET http://%s:%d/ HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % (u, P)).split(b'\\r\\n')[0])
print('HOST-HEADER', ask('GET http://example.invalid/ HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\n\\r\\n' % P)[:80])
print('SMUGGLE-CL', ask('GET http://example.invalid/ HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\nGET http://127.0.0.1:%d/ HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' % P))
print('SMUGGLE-TE', ask('POST http://example.invalid/ HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nContent-Length: 4\\r\\n\\r\\n0\\r\\n\\r\\nGET http://127.0.0.1:%d/ HTTP/1.1\\r\\n\\r\\n' % P))`,
        { timeoutSeconds: 60 },
      ),
    ]);
    expect.soft(connections, "a request through the egress proxy reached a service of the host").toBe(0);
    expect.soft(outputOf(o, 0)).not.toContain("HOST SERVICE");
    expect.soft(outputOf(o, 0)).not.toMatch(/200 Connection Established/);
    await expectContained(a, o);
  }, 90_000);

  // A retry reuses the task branch and its previous commit: a committed symlink among the prompt
  // overrides (`.gimo/prompts/executor/*.md` → GIMO's vault key) is checked out by GIMO as root
  // before any command — the prompt loader resolves it and refuses it (outside the repository), so
  // the key never reaches the model.
  it("S2 · a committed .gimo/prompts symlink to GIMO's vault key, on the reused branch, is never read into a prompt", async () => {
    const d = a.g.db.dataDir;
    const first = await a.run([
      WORK,
      sh(
        `mkdir -p .gimo/prompts/executor && ln -s ${d}/vault.key .gimo/prompts/executor/role.md && ln -s ../../../../../../../../../../..${d}/vault.key .gimo/prompts/executor/zz-extra.md && ls -la .gimo/prompts/executor`,
      ),
    ]);
    await expectContained(a, first);
    const second = await a.run([call("write_file", { path: "again.txt", content: "run 2\n" })], {
      sameTaskAs: first,
    });
    // The run refuses the override (policy_refused) before any command: the branch stays as run 1
    // pushed it, so only the secrets part of expectContained applies.
    expectFailed(second, "policy_refused", /points outside the repository/);
    const { vaultKey } = a.canaries;
    expect.soft(second.requests.includes(vaultKey), "the vault key was sent to the model").toBe(false);
    expect.soft(second.logs.includes(vaultKey), "the vault key is in the run's logs").toBe(false);
    expect.soft(JSON.stringify(second.run).includes(vaultKey), "the vault key is in the run").toBe(false);
    expect
      .soft((await allObjects(a.g.repo.remotePath)).includes(vaultKey), "the vault key was pushed")
      .toBe(false);
    expect.soft(second.tmpAfter).toEqual(second.tmpBefore);
    expect
      .soft((await remoteRefs(a.g.repo.remotePath)).get(`task/${second.run.task_id}`))
      .toBe(first.run.result?.head_sha);
  }, 90_000);
});
