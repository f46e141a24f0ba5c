import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovedPage } from "../src/contract/approved.ts";
import { ApproveResult, Draft, DraftPage } from "../src/contract/draft.ts";
import { Project, ProjectPage } from "../src/contract/project.ts";
import { Run, RunPage } from "../src/contract/run.ts";
import { RunLogPage, RunnerStatus } from "../src/contract/runner.ts";
import { Status, Whoami } from "../src/contract/system.ts";
import { TaskDetail, TaskPage } from "../src/contract/task.ts";
import { createDemoRepo, type DemoRepo } from "../src/demo/fixture.ts";
import { DEMO_PLAN, demoModel } from "../src/demo/model-script.ts";
import { type ReceivedRequest, type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { allCommands, buildProgram } from "../src/operators/cli/program.ts";
import { type CliResult, gimo } from "./support/cli.ts";
import { createTestDatabase, type TestDatabase } from "./support/databases.ts";
import { type ServerProcess, startServerProcess } from "./support/processes.ts";

/**
 * The `gimo` binary as a user runs it, against a real `gimo serve` (SQLite, its embedded runner,
 * the sandbox) whose planner and executor are the scripted model, on a real repository with a bare
 * remote. Every CLI call is a separate process with standard input closed, so a prompt that waited
 * for an answer would hang and fail the test by its timeout.
 */
const FAILING = "Break the build on purpose";
const execFileP = promisify(execFile);

/** The demo's model, plus: a revised plan that says it was revised, and a plan that cannot pass. */
function model(request: ReceivedRequest) {
  const body = request.body;
  const said = JSON.stringify(body.messages ?? []);
  if (!body.tools || body.tools.length === 0) {
    if (said.includes(FAILING))
      return {
        json: {
          title: "A step that fails",
          steps: [{ id: "s1", kind: "command", title: "Fail", command: "node -e process.exit(3)" }],
        },
      };
    if (said.includes("say it was revised")) return { json: { ...DEMO_PLAN, title: "Fix add() (revised)" } };
  }
  return demoModel(request);
}

describe("the gimo CLI against a real server", () => {
  let root: string;
  let db: TestDatabase;
  let repo: DemoRepo;
  let scripted: ScriptedModel;
  let server: ServerProcess;
  let env: NodeJS.ProcessEnv;
  let adminToken: string;

  const cli = (args: string[], extra: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
    gimo(args, { env: { ...env, ...extra.env }, cwd: root, input: extra.input, timeoutMs: extra.timeoutMs });
  const json = <T>(r: CliResult, schema: { parse(v: unknown): T }): T => {
    expect(r.stderr).not.toMatch(/gimo: /);
    expect(r.code, r.stderr).toBe(0);
    return schema.parse(JSON.parse(r.stdout));
  };

  beforeAll(async () => {
    db = await createTestDatabase("sqlite");
    root = join(db.dataDir, "user");
    mkdirSync(root);
    repo = await createDemoRepo(join(db.dataDir, "repos"));
    scripted = await startScriptedModel({ respond: model });
    const providers = join(db.dataDir, "providers.json");
    const provider = { type: "openai_compat", base_url: scripted.url, model: "scripted-model" };
    writeFileSync(providers, JSON.stringify({ planner: provider, executor: provider }));
    adminToken = `adm_${Date.now()}_cli_test_token`;
    server = await startServerProcess(
      db,
      {
        admin: adminToken,
        operator: `opr_${Date.now()}_x`,
        actions: `act_${Date.now()}_x`,
        runner: `run_${Date.now()}_x`,
      },
      { env: { GIMO_EMBEDDED_RUNNERS: "1", GIMO_PROVIDERS_FILE: providers } },
    );
    // The user's environment: a home of their own, no GIMO_* variables, not in a data dir.
    env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(ORCH_|GIMO_|DATABASE_URL|NO_COLOR|FORCE_COLOR)/.test(k),
      ),
    );
    env.HOME = join(db.dataDir, "home");
    env.XDG_CONFIG_HOME = join(db.dataDir, "home", ".config");
  }, 60_000);

  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await scripted?.close();
    await db?.drop();
  });

  it("login → projects add → task → revise → revise --edit → approve --run → logs --follow ends with the branch link, exit 0", async () => {
    const noLogin = await cli(["whoami"], { env: { GIMO_URL: server.url } });
    expect(noLogin.code).toBe(3);
    expect(noLogin.stderr).toContain("gimo login");

    const login = await cli(["login", server.url, "--token-stdin"], { input: `${adminToken}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("as env:admin (role admin)");
    const config = join(env.XDG_CONFIG_HOME as string, "gimo", "config.json");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, "utf8"))).toEqual({ url: server.url, token: adminToken });
    expect(json(await cli(["whoami", "--json"]), Whoami)).toMatchObject({
      actor: "env:admin",
      role: "admin",
    });

    const project = json(
      await cli([
        "projects",
        "add",
        repo.path,
        "--name",
        "calc",
        "--test",
        "node calc.test.js",
        "--link",
        "https://git.example.test/calc/tree/{branch}",
        "--json",
      ]),
      Project,
    );
    expect(project).toMatchObject({ name: "calc", is_default: true, test_command: "node calc.test.js" });
    expect(json(await cli(["projects", "list", "--json"]), ProjectPage).items.map((p) => p.id)).toEqual([
      project.id,
    ]);

    const task = await cli(["task", "The tests say add() is broken. Fix it."]);
    expect(task.code, task.stderr).toBe(0);
    expect(task.stdout).toContain("project calc");
    expect(task.stdout).toContain("the default");
    expect(task.stdout).toContain("Fix add() so it adds");
    expect(task.stdout).toContain("Acceptance");
    expect(task.stdout).toMatch(/gimo approve d_\w+ --run/);
    const first = (task.stdout.match(/Draft (d_\w+) rev 1/) ?? [])[1] as string;
    expect(first).toBeDefined();

    const revised = json(await cli(["revise", first, "please", "say it was revised", "--json"]), Draft);
    expect(revised).toMatchObject({ rev: 2, status: "draft", plan: { title: "Fix add() (revised)" } });

    // --edit: the plan in $EDITOR as YAML, validated, saved. The "editor" here is sed.
    const edited = await cli(["revise", revised.id, "--edit", "--json"], {
      env: { EDITOR: "sed -i 's/^title: .*/title: Edited by hand/'" },
    });
    expect(json(edited, Draft).plan?.title).toBe("Edited by hand");
    const broken = await cli(["revise", revised.id, "--edit"], {
      env: { EDITOR: "sed -i 's/^risk: .*/risk: extreme/'" },
    });
    expect(broken.code).toBe(6);
    expect(broken.stderr).toContain("does not fit the contract");
    expect(json(await cli(["show", revised.id, "--json"]), Draft).plan?.title).toBe("Edited by hand");

    const approval = json(await cli(["approve", revised.id, "--run", "--json"]), ApproveResult);
    const runId = approval.run?.id as string;
    expect(runId).toMatch(/^r_/);

    const follow = await cli(["logs", runId, "--follow"], { timeoutMs: 120_000 });
    expect(follow.code, follow.stderr + follow.stdout).toBe(0);
    const branch = `task/${approval.approved.task_id}`;
    expect(follow.stdout).toContain(`branch ${branch}`);
    expect(follow.stdout).toContain(`link https://git.example.test/calc/tree/${branch}`);
    expect(follow.stdout).toContain("pushed yes");

    // --json of every read command parses as its contract shape.
    expect(json(await cli(["runs", "--json"]), RunPage).items[0]?.id).toBe(runId);
    expect(json(await cli(["show", runId, "--json"]), Run).status).toBe("succeeded");
    expect(json(await cli(["show", approval.approved.task_id, "--json"]), TaskDetail).branch).toBe(branch);
    expect(json(await cli(["tasks", "--json"]), TaskPage).items[0]?.status).toBe("COMPLETED");
    expect(
      json(await cli(["drafts", "--json", "--task", approval.approved.task_id]), DraftPage).items,
    ).toHaveLength(2);
    expect(
      json(await cli(["show", approval.approved.id, "--json"]), ApprovedPage.shape.items.element).id,
    ).toBe(approval.approved.id);
    expect(json(await cli(["logs", runId, "--json"]), RunLogPage).items.length).toBeGreaterThan(0);
    const status = JSON.parse((await cli(["status", "--json"])).stdout);
    expect(Status.parse(status.status).queue.succeeded).toBe(1);
    expect(RunnerStatus.parse(status.runners).online).toBe(1);
    expect(status.providers.planner.ok).toBe(true);
    expect((await cli(["audit", "verify"])).stdout).toContain("the audit chain holds");
  }, 240_000);

  it("a failing run: watch and logs --follow exit 10 with the reason", async () => {
    const draft = json(await cli(["task", FAILING, "--json"]), Draft);
    expect(draft.plan?.title).toBe("A step that fails");
    const approval = json(await cli(["approve", draft.id, "--run", "--json"]), ApproveResult);
    const runId = approval.run?.id as string;
    const watched = await cli(["watch", runId], { timeoutMs: 120_000 });
    expect(watched.code, watched.stdout + watched.stderr).toBe(10);
    expect(watched.stderr).toContain(`run ${runId} failed`);
    const again = await cli(["logs", runId, "--follow", "--json"]);
    expect(again.code).toBe(10);
    const lines = again.stdout.trim().split("\n");
    expect(lines.some((l) => l.includes('"event":"run.failed"'))).toBe(true);
  }, 180_000);

  it("refusals have their own exit codes: a draft id to `run` (403 → 3), an unknown run (404 → 4), approving twice (409 → 5)", async () => {
    const draft = json(await cli(["task", "Another fix", "--json"]), Draft);
    const asRun = await cli(["run", draft.id]);
    expect(asRun.code).toBe(3);
    expect(asRun.stderr).toContain("only approved plans can run");
    expect((await cli(["show", "r_01JD0000000000000000000000"])).code).toBe(4);
    expect((await cli(["approve", draft.id])).code).toBe(0);
    expect((await cli(["approve", draft.id])).code).toBe(5);
    const unreachable = await cli(["status"], { env: { GIMO_URL: "http://127.0.0.1:9", GIMO_TOKEN: "x" } });
    expect(unreachable.code).toBe(7);
    // colour only when asked for off a terminal, and never with NO_COLOR
    expect((await cli(["projects", "list"])).stdout).not.toContain("\u001b[");
    expect((await cli(["projects", "list"], { env: { FORCE_COLOR: "1" } })).stdout).toContain("\u001b[");
    expect(
      (await cli(["projects", "list"], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } })).stdout,
    ).not.toContain("\u001b[");
  }, 60_000);

  it("no prompt waits without a terminal: each fails at once and names the flag", async () => {
    const runTask = await cli(["run-task", "do it", "--repo", repo.path]);
    expect(runTask.code).toBe(2);
    expect(runTask.stderr).toContain("pass --yes");
    const noModel = await cli(["run-task", "do it", "--repo", repo.path, "--yes"], {
      env: { GIMO_DATA_DIR: join(db.dataDir, "run-task-data") },
    });
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain("--providers FILE");
    const login = await cli(["login", server.url], { env: { XDG_CONFIG_HOME: join(db.dataDir, "other") } });
    expect(login.code).toBe(2);
    expect(login.stderr).toContain("--token-stdin");
    expect(existsSync(join(db.dataDir, "other", "gimo", "config.json"))).toBe(false);
    const badToken = await cli(["login", server.url, "--token-stdin"], {
      input: "not-a-token",
      env: { XDG_CONFIG_HOME: join(db.dataDir, "other") },
    });
    expect(badToken.code).toBe(3);
    expect(existsSync(join(db.dataDir, "other", "gimo", "config.json"))).toBe(false);
  }, 60_000);

  it("doctor checks the machine, the server, its database and models, each failure with its fix", async () => {
    const env = { GIMO_URL: server.url, GIMO_TOKEN: adminToken };
    const ok = await cli(["doctor", "--json"], { env });
    const { checks } = JSON.parse(ok.stdout) as { checks: { name: string; ok: boolean; fix?: string }[] };
    expect(checks.map((c) => c.name)).toEqual([
      "node",
      "git",
      "ripgrep",
      "bubblewrap",
      "sandbox",
      "util-linux",
      "server",
      "database",
      "token",
      "planner",
      "executor",
    ]);
    expect(
      checks.filter((c) => !c.ok),
      ok.stdout,
    ).toEqual([]);
    expect(ok.code).toBe(0);
    const down = await cli(["doctor"], { env: { GIMO_URL: "http://127.0.0.1:9", GIMO_TOKEN: "x" } });
    expect(down.code).toBe(13);
    expect(down.stdout).toMatch(/✗ server .*\n {2}fix: start it with `gimo serve`/);
  }, 60_000);

  it("every command and subcommand answers --help with exit 0, and completion scripts name them", async () => {
    const paths = allCommands(buildProgram("0.0.0")).map((c) => {
      const names: string[] = [];
      for (let at: typeof c | null = c; at?.parent; at = at.parent) names.unshift(at.name());
      return names;
    });
    expect(paths.length).toBeGreaterThan(25);
    for (const path of paths) {
      const r = await cli([...path, "--help"]);
      expect(r.code, `gimo ${path.join(" ")} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: gimo${path.length ? ` ${path.join(" ")}` : ""}`);
    }
    // bash completes commands, subcommands and a command's options from the tree
    const script = (await cli(["completion", "bash"])).stdout;
    const complete = async (...words: string[]) => {
      const r = await execFileP("bash", [
        "-c",
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _gimo; echo "\${COMPREPLY[*]}"`,
      ]);
      return r.stdout.trim();
    };
    expect(await complete("gimo", "pro")).toBe("projects");
    expect(await complete("gimo", "projects", "a")).toBe("add archive");
    expect(await complete("gimo", "projects", "ad")).toBe("add");
    expect(await complete("gimo", "logs", "r_1", "--fo")).toBe("--follow");
    for (const shell of ["bash", "zsh", "fish"]) {
      const r = await cli(["completion", shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("approve");
      expect(r.stdout).toContain("follow");
    }
    expect((await cli(["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await cli(["no-such-command"])).code).toBe(2);
  }, 180_000);
});
