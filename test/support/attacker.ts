import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import { systemPrincipal } from "../../src/core/roles.ts";
import { embeddedExecutorDeps } from "../../src/embedded/executor-deps.ts";
import type { ScriptedReply } from "../../src/llm/scripted-replies.ts";
import {
  type ReceivedRequest,
  type ScriptedModel,
  startScriptedModel,
} from "../../src/llm/scripted-server.ts";
import { createExecutor } from "../../src/runner/executor.ts";
import { startGimo, type TestGimo } from "./harness.ts";

/**
 * The attacker of the escape suite: a scripted executor model that plays a fixed list of tool calls,
 * one per turn, then `finish` — so a test reads as the attack — and an arena around it: a real GIMO
 * (SQLite, real bubblewrap, the real executor), known secrets planted where the agent must never
 * reach them, a temp dir for markers, and the host-side checks every escape test makes.
 *
 * Everything the attack leaves on the host is observed from OUTSIDE: the marker dir, the run's
 * logs, every request the model received, the run's result, the bare remote.
 */
const exec = promisify(execFile);

// ─── the scripted attacker ────────────────────────────────────────────────────────────────────────

export interface ToolStep {
  tool: string;
  args: Record<string, unknown>;
}
/** Runs on the host between two tool calls (e.g. to look at the workspace from outside). */
export interface HostStep {
  host: () => void | Promise<void>;
}
export type Step = ToolStep | HostStep;

export const call = (tool: string, args: Record<string, unknown> = {}): ToolStep => ({ tool, args });
/** `run_command` with a shell command. */
export const sh = (command: string): ToolStep => call("run_command", { command });
/**
 * `run_command` with a Python program, passed base64-encoded so no shell quoting gets in the way
 * (and the command policy, a guard rail, sees only `python3 -c …`: the sandbox is what is tested).
 */
export const py = (code: string, opts: { timeoutSeconds?: number } = {}): ToolStep =>
  sh(
    `${opts.timeoutSeconds ? `timeout ${opts.timeoutSeconds} ` : ""}python3 -c "import base64;exec(base64.b64decode('${Buffer.from(code).toString("base64")}'))"`,
  );
/** Python that sets `gd` to the worktree's git dir, read from the `.git` file as an agent would. */
export const GIT_DIR_PY = "import os\ngd = open('.git').read().split('gitdir:', 1)[1].strip()\n";

export interface ToolResult {
  tool: string;
  content: string;
}

export interface Attacker {
  respond(req: ReceivedRequest): Promise<ScriptedReply>;
  /** The result of every tool call the model saw, in order (from the last request of the run). */
  results: ToolResult[];
}

export function attacker(steps: Step[], summary = "done"): Attacker {
  const results: ToolResult[] = [];
  const ran = new Set<number>();
  return {
    results,
    async respond(req) {
      const body = req.body;
      // The reasoner of a failed command step: it gives up (a command that fails, not the same one).
      if (!body.tools || body.tools.length === 0)
        return { json: { command: "exit 3", reason: "the attacker gives up" } };
      const messages = body.messages ?? [];
      const callNames = new Map<string, string>();
      let turns = 0;
      for (const m of messages) {
        const calls = (m.tool_calls ?? []) as { id?: string; function?: { name?: string } }[];
        if (m.role === "assistant" && calls.length > 0) {
          turns++;
          for (const c of calls) callNames.set(c.id ?? "", c.function?.name ?? "");
        }
      }
      if (turns === 0) ran.clear(); // a new run
      results.length = 0;
      for (const m of messages) {
        if (m.role !== "tool") continue;
        results.push({ tool: callNames.get(m.tool_call_id ?? "") ?? "?", content: contentText(m.content) });
      }
      let toolIndex = 0;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i] as Step;
        if ("host" in step) {
          if (toolIndex === turns && !ran.has(i)) {
            ran.add(i);
            await step.host();
          }
          continue;
        }
        if (toolIndex === turns) return { toolCalls: [{ name: step.tool, args: step.args }] };
        toolIndex++;
      }
      return { toolCalls: [{ name: "finish", args: { summary } }] };
    },
  };
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  return JSON.stringify(content ?? "");
}

// ─── the arena ────────────────────────────────────────────────────────────────────────────────────

export interface ArenaOptions {
  network?: boolean;
  testCommand?: string;
  setupCommand?: string;
}

export interface Canaries {
  /** The text of `<dataDir>/vault.key` (GIMO's vault key). */
  vaultKey: string;
  /** In `<dataDir>/gimo.db`, a stand-in database. */
  db: string;
  /** Only in a local, never pushed branch `private` of the user's repository. */
  privateBranch: string;
}

export interface Arena {
  g: TestGimo;
  model: ScriptedModel;
  /** A temp dir of the test's own on the host: markers go here; the sandbox has its own /tmp. */
  tmp: string;
  canaries: Canaries;
  /** The sha of `main` on the remote when the arena started (every run's base). */
  baseSha: string;
  /** The tip of the unpushed `private` branch (its commit holds `canaries.privateBranch`). */
  privateSha: string;
  /** The task branches of every run started in this arena. */
  branches: string[];
  run(steps: Step[] | Attacker, opts?: RunAttackOptions): Promise<Outcome>;
  close(): Promise<void>;
}

export interface RunAttackOptions {
  /** The plan's steps; default one agent step. */
  planSteps?: unknown[];
  budgets?: Record<string, number>;
  /** How long to wait for the run to end before cancelling it (the test then fails on `timedOut`). */
  waitMs?: number;
  /** Start a new run of the same approved plan (the same task, so the same task branch) as this one. */
  sameTaskAs?: Outcome;
  /** Called when the run did not end within `waitMs`, before it is cancelled (to unblock it). */
  onTimeout?: () => void | Promise<void>;
}

export interface Outcome {
  // biome-ignore lint/suspicious/noExplicitAny: the run as the API answers it
  run: any;
  status: string;
  // biome-ignore lint/suspicious/noExplicitAny: the run's error as the API answers it
  error: any;
  /** Every log line of the run, joined. */
  logs: string;
  /** Every request the model received during this run, as JSON. */
  requests: string;
  results: ToolResult[];
  elapsedMs: number;
  /** The run did not end within `waitMs` and was cancelled. */
  timedOut: boolean;
  /** The marker dir (`arena.tmp`) before and after the run: path → content (or "<dir>", "-> target"). */
  tmpBefore: Record<string, string>;
  tmpAfter: Record<string, string>;
}

export const AGENT_STEP = { id: "s1", kind: "agent", title: "Do the task", instructions: "Do the task." };

export async function startArena(opts: ArenaOptions = {}): Promise<Arena> {
  let current: Attacker = attacker([]);
  const model = await startScriptedModel({ respond: (req) => current.respond(req) });
  const g = await startGimo(
    "sqlite",
    { sandbox: "on", leaseSeconds: 10 },
    { runHandler: (services) => createExecutor(embeddedExecutorDeps(services, () => {})) },
  );
  const tmp = mkdtempSync(join(tmpdir(), "gimo-escape-"));
  const canaries = plantSecrets(g.db.dataDir);
  // A local branch the user never pushed, with a secret in it.
  await g.repo.git("checkout", "-q", "-b", "private");
  writeFileSync(join(g.repo.path, "private.txt"), `${canaries.privateBranch}\n`);
  await g.repo.git("add", "private.txt");
  await g.repo.git("commit", "-q", "-m", "private work, never pushed");
  const privateSha = await g.repo.git("rev-parse", "HEAD");
  await g.repo.git("checkout", "-q", "main");
  const baseSha = await hostGit(["-C", g.repo.remotePath, "rev-parse", "main"]);

  const provider = { type: "openai_compat", base_url: model.url, model: "scripted" };
  await g.request("PUT", "/ops/provider", { body: { planner: provider, executor: provider } });
  const patch = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
    body: {
      ...(opts.testCommand ? { test_command: opts.testCommand } : {}),
      ...(opts.setupCommand ? { setup_command: opts.setupCommand } : {}),
      sandbox: { network: opts.network ?? false },
      budgets: { max_fix_iterations: 0 },
    },
  });
  if (patch.status !== 200) throw new Error(`PATCH project: ${patch.status} ${patch.text}`);

  const arena: Arena = {
    g,
    model,
    tmp,
    canaries,
    baseSha,
    privateSha,
    branches: [],
    async run(steps, runOpts = {}) {
      current = Array.isArray(steps) ? attacker(steps) : steps;
      const before = model.requests.length;
      const { drafts } = g.gimo.services;
      const plan = {
        title: "Escape attempt",
        summary: "The executor model plays an attack.",
        steps: runOpts.planSteps ?? [AGENT_STEP],
        acceptance: [],
        risk: "low",
        ...(runOpts.budgets ? { budgets: runOpts.budgets } : {}),
      };
      const tmpBefore = snapshot(tmp);
      const started = Date.now();
      let queued: { id: string; task_id: string } | null | undefined;
      if (runOpts.sameTaskAs) {
        queued = await g.gimo.services.runs.create(systemPrincipal, {
          approved_id: runOpts.sameTaskAs.run.approved_id,
          allow_parallel: true,
        });
      } else {
        const draft = await drafts.create(systemPrincipal, { prompt: "escape", plan: plan as never });
        queued = (await drafts.approve(systemPrincipal, draft.id, { auto_run: true })).run;
      }
      const id = queued?.id as string;
      arena.branches.push(`task/${queued?.task_id}`);
      const waitMs = runOpts.waitMs ?? 60_000;
      let run = await waitForEnd(g, id, waitMs);
      const elapsedMs = Date.now() - started;
      const timedOut = run === undefined;
      if (!run) {
        await runOpts.onTimeout?.();
        await g.request("POST", `/ops/runs/${id}/cancel`, { body: { reason: "the escape test gave up" } });
        run = (await waitForEnd(g, id, 30_000)) ?? (await g.request("GET", `/ops/runs/${id}`)).body;
      }
      const getLogs = () => g.request("GET", `/ops/runs/${id}/logs?limit=1000`);
      const logs = await getLogs().catch(getLogs);
      const lines = (logs.body?.items ?? []) as { msg: string }[];
      return {
        run,
        status: run.status,
        error: run.error,
        logs: lines.map((l) => l.msg).join("\n"),
        requests: JSON.stringify(model.requests.slice(before).map((r) => r.body)),
        results: [...current.results],
        elapsedMs,
        timedOut,
        tmpBefore,
        tmpAfter: snapshot(tmp),
      };
    },
    async close() {
      await g.close();
      await model.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  return arena;
}

const TERMINAL = ["succeeded", "failed", "cancelled"];

// biome-ignore lint/suspicious/noExplicitAny: the run as the API answers it
async function waitForEnd(g: TestGimo, id: string, ms: number): Promise<any | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    // A busy host (an attack in progress) may drop a keep-alive connection: ask again.
    const r = await g.request("GET", `/ops/runs/${id}`).catch(() => undefined);
    if (TERMINAL.includes(r?.body?.status)) return r?.body;
    if (Date.now() > deadline) return undefined;
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Known secrets in GIMO's data dir: the vault key (made now if GIMO has not made it yet) and a database. */
function plantSecrets(dataDir: string): Canaries {
  const keyFile = join(dataDir, "vault.key");
  if (!existsSync(keyFile)) {
    // 32 bytes, as GIMO's own key file holds, base64 — recognisable in any output.
    writeFileSync(
      keyFile,
      `${Buffer.from(`ESC-VAULT-${randomBytes(11).toString("hex")}`).toString("base64")}\n`,
      {
        mode: 0o600,
      },
    );
  }
  const vaultKey = readFileSync(keyFile, "utf8").trim();
  const db = `ESC-DB-CANARY-${randomBytes(8).toString("hex")}`;
  writeFileSync(join(dataDir, "gimo.db"), `SQLite format 3\u0000 fake copy\n${db}\n`, { mode: 0o600 });
  return { vaultKey, db, privateBranch: `ESC-PRIVATE-${randomBytes(8).toString("hex")}` };
}

// ─── looking from outside ─────────────────────────────────────────────────────────────────────────

/**
 * git for the test's own checks: never the (possibly poisoned) global or system config, no hooks,
 * no fsmonitor — a check must not run anything the attack planted.
 */
export async function hostGit(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await exec(
    "git",
    ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", ...args],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: "/nonexistent-escape-home",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        LC_ALL: "C",
      },
      maxBuffer: 1024 * 1024 * 1024,
    },
  );
  return stdout.trim();
}

/** The remote's branches and their tips. */
export async function remoteRefs(remotePath: string): Promise<Map<string, string>> {
  const out = await hostGit(["ls-remote", "--heads", remotePath]);
  const refs = new Map<string, string>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [sha, ref] = line.split("\t");
    refs.set((ref ?? "").replace(/^refs\/heads\//, ""), sha ?? "");
  }
  return refs;
}

/** Every object of a repository (those under 64 MB), uncompressed, as one string (to look for a secret). */
export async function allObjects(gitDir: string): Promise<string> {
  const env = { PATH: process.env.PATH ?? "", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  const list = await hostGit([
    "-C",
    gitDir,
    "cat-file",
    "--batch-all-objects",
    "--batch-check=%(objectname) %(objectsize)",
  ]);
  const small = list
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" "))
    .filter(([, size]) => Number(size) < 64 * 1024 * 1024)
    .map(([name]) => name);
  if (small.length === 0) return "";
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      ["-C", gitDir, "cat-file", "--batch"],
      { encoding: "latin1", maxBuffer: 1024 * 1024 * 1024, env },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
    child.stdin?.end(`${small.join("\n")}\n`);
  });
}

/** The sizes of the remote's blobs. */
export async function blobSizes(gitDir: string): Promise<number[]> {
  const out = await hostGit([
    "-C",
    gitDir,
    "cat-file",
    "--batch-all-objects",
    "--batch-check=%(objecttype) %(objectsize)",
  ]);
  return out
    .split("\n")
    .filter((l) => l.startsWith("blob "))
    .map((l) => Number(l.split(" ")[1]));
}

/** The run's worktree on the host (while the run is in progress). */
export function workspaceOf(dataDir: string): string {
  const root = join(dataDir, "work", "worktrees");
  const dirs = readdirSync(root).filter((n) => !n.endsWith(".json") && statSync(join(root, n)).isDirectory());
  if (dirs.length !== 1) throw new Error(`expected one worktree under ${root}, found ${dirs.join(", ")}`);
  return join(root, dirs[0] as string);
}

/** What is under `dir` on the host: path → file content, "<dir>", or "-> target" for a symlink. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      const rel = `${prefix}${e.name}`;
      if (e.isSymbolicLink()) out[rel] = `-> ${readlinkSync(path)}`;
      else if (e.isDirectory()) {
        out[rel] = "<dir>";
        walk(path, `${rel}/`);
      } else {
        const size = statSync(path).size;
        const text = size > 65_536 ? "" : readFileSync(path, "latin1");
        // biome-ignore lint/suspicious/noControlCharactersInRegex: telling binary from text
        const binary = size > 65_536 || /[\u0000-\u0008\u000e-\u001f\u007f-\u00ff]/.test(text);
        out[rel] = binary ? `<${size} bytes, sha256 ${sha256(path)}>` : text;
      }
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
}

/** Host processes whose command line contains `token`. */
export function processesWith(token: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ").includes(token))
        pids.push(Number(name));
    } catch {
      // gone
    }
  }
  return pids;
}

// ─── the invariants every escape test asserts ────────────────────────────────────────────────────

export interface ContainedOptions {
  /** The commit the run's branch must grow from by exactly one commit (default: the run's base). */
  since?: string;
  /** Secrets that may appear in the logs and the model's requests (still never on the remote). */
  allowSeen?: (keyof Canaries)[];
}

/**
 * The host-side invariants, each a soft expectation so one test reports every escape it shows:
 *  - the run ended by itself (no cancel needed);
 *  - nothing appeared, changed or vanished in the test's marker dir;
 *  - GIMO's secrets are in no log line, no model request, not in the run, not on the remote;
 *  - the remote's `main` is unchanged and it has no branch but the run's; when the run's branch is
 *    there it is one commit whose only parent is the run's base, and `pushed` says so (and only then);
 *  - nothing of the user's unpushed `private` branch reached the remote.
 */
export async function expectContained(a: Arena, o: Outcome, opts: ContainedOptions = {}): Promise<void> {
  expect.soft(o.timedOut, `the run did not end by itself within the wait (status ${o.status})`).toBe(false);
  expect.soft(o.tmpAfter, "files outside the workspace (the test's marker dir) changed").toEqual(o.tmpBefore);

  const runText = JSON.stringify(o.run);
  const serverLogs = a.g.logs.join("\n");
  const remoteObjects = await allObjects(a.g.repo.remotePath);
  for (const name of ["vaultKey", "db"] as const) {
    const secret = a.canaries[name];
    if (!opts.allowSeen?.includes(name)) {
      expect.soft(o.logs.includes(secret), `the ${name} secret is in the run's logs`).toBe(false);
      expect.soft(o.requests.includes(secret), `the ${name} secret was sent to the model`).toBe(false);
      expect.soft(runText.includes(secret), `the ${name} secret is in the run's result`).toBe(false);
      expect.soft(serverLogs.includes(secret), `the ${name} secret is in GIMO's own log`).toBe(false);
    }
    expect.soft(remoteObjects.includes(secret), `the ${name} secret was pushed to the remote`).toBe(false);
  }
  expect
    .soft(
      remoteObjects.includes(a.canaries.privateBranch),
      "the user's unpushed private branch reached the remote",
    )
    .toBe(false);

  const refs = await remoteRefs(a.g.repo.remotePath);
  expect.soft(refs.get("main"), "the remote's main moved").toBe(a.baseSha);
  const branch = `task/${o.run.task_id}`;
  expect
    .soft(
      [...refs.keys()].filter((b) => b !== "main" && !a.branches.includes(b)),
      "other branches on the remote",
    )
    .toEqual([]);
  const pushed = o.run.result?.pushed === true;
  const tip = refs.get(branch);
  expect
    .soft(tip !== undefined, `result.pushed is ${pushed} but the remote ${tip ? "has" : "lacks"} ${branch}`)
    .toBe(pushed);
  if (pushed && tip)
    expect.soft(tip, "the remote's branch is not the commit GIMO reports").toBe(o.run.result.head_sha);
  if (tip) {
    const since = opts.since ?? a.baseSha;
    const commits = (await hostGit(["-C", a.g.repo.remotePath, "rev-list", "--parents", `${since}..${tip}`]))
      .split("\n")
      .filter(Boolean);
    expect.soft(commits.length, `the pushed branch has ${commits.length} commits beyond the base`).toBe(1);
    const parents = (commits[0] ?? "").split(" ").slice(1);
    expect.soft(parents, "the pushed commit's parents are not exactly the run's base").toEqual([since]);
    const tree = await hostGit(["-C", a.g.repo.remotePath, "ls-tree", "-r", tip]);
    expect.soft(tree, "the pushed tree holds a gitlink (a nested repository)").not.toMatch(/^160000 /m);
  }
}

/** The run failed with `code` (and, when given, a message matching `message`). */
export function expectFailed(o: Outcome, code: string, message?: RegExp): void {
  expect.soft(o.status, `status (error: ${JSON.stringify(o.error)})`).toBe("failed");
  expect.soft(o.error?.code, `error code (error: ${JSON.stringify(o.error)})`).toBe(code);
  if (message) expect.soft(o.error?.message ?? "", "error message").toMatch(message);
}
