import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handOver, sandboxUser } from "../sandbox/identity.ts";
import type { CommandResult, Sandbox } from "../sandbox/sandbox.ts";
import { createSandbox } from "../sandbox/sandbox.ts";
import type { LogLevel } from "./adapter.ts";
import { claudeAdapter } from "./claude.ts";
import { geminiAdapter } from "./gemini.ts";
import { runAgentCli, withHomeFiles } from "./run.ts";

/**
 * An agent CLI end to end through the real sandbox: a fake `claude` (a node script written here)
 * prints stream-json in split writes, "calls its model API" on a local port, edits a file and
 * reports what environment it sees. Proves streaming, the sandbox's env and network rules for
 * agent CLIs, and the wall budget.
 */
const hasBwrap = (() => {
  try {
    execFileSync("bwrap", ["--ro-bind", "/", "/", "--unshare-all", "--", "/bin/true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const FAKE_CLAUDE = `#!/usr/bin/env node
const fs = require("node:fs");
const net = require("node:net");
const args = process.argv.slice(2);
const prompt = args[args.indexOf("-p") + 1];
const emit = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  emit({ type: "system", subtype: "init", model: "fake-model", cwd: process.cwd() });
  const port = /port=(\\d+)/.exec(prompt)?.[1];
  // Like a real CLI: its API through HTTPS_PROXY (GIMO's egress proxy), as a CONNECT tunnel.
  const proxy = process.env.HTTPS_PROXY ? new URL(process.env.HTTPS_PROXY) : undefined;
  const api = await new Promise((resolve) => {
    if (!proxy) return resolve("no proxy");
    const req = require("node:http").request({ host: proxy.hostname, port: proxy.port, method: "CONNECT", path: "127.0.0.1:" + port });
    req.on("connect", (res, socket) => { socket.end(); resolve(res.statusCode === 200 ? "reached" : "refused " + res.statusCode); });
    req.on("error", (e) => resolve(e.code));
    req.end();
  });
  emit({ type: "assistant", message: { content: [{ type: "text", text: "model api: " + api }, { type: "tool_use", name: "Edit", input: { file_path: "src/a.txt" } }] } });
  fs.writeFileSync("src/a.txt", "edited by fake claude\\n");
  emit({ type: "user", message: { content: [{ type: "tool_result", content: "ok", is_error: false }] } });
  const env = process.env;
  emit({ type: "assistant", message: { content: [{ type: "text", text: "env: key=" + (env.ANTHROPIC_API_KEY || "absent") + " openai=" + (env.OPENAI_API_KEY || "absent") + " sandbox=" + env.IS_SANDBOX + " home=" + env.HOME }] } });
  if (prompt.includes("slow")) { await sleep(100000); return; }
  process.stdout.write('{"type":"result","subtype":"success","is_error":false,"result":"done editing",');
  await sleep(80);
  process.stdout.write('"usage":{"input_tokens":100,"output_tokens":20}}\\n');
})();
`;

let root: string;
let ws: string;
let cli: string;
let server: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  root = mkdtempSync(join(existsSync("/var/tmp") ? "/var/tmp" : tmpdir(), "gimo-agent-cli-"));
  chmodSync(root, 0o755); // the sandbox user (GIMO is root here) runs the fake CLI from it
  ws = join(root, "ws");
  mkdirSync(join(ws, "src"), { recursive: true });
  writeFileSync(join(ws, "src", "a.txt"), "original\n");
  cli = join(root, "bin", "claude");
  mkdirSync(join(root, "bin"));
  writeFileSync(cli, FAKE_CLAUDE, { mode: 0o755 });
  const user = sandboxUser();
  if (user) await handOver(ws, user);
  server = createServer((s) => {
    connections++;
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!hasBwrap)("an agent CLI through the sandbox", () => {
  const sandbox = createSandbox("on");
  const spec = (timeoutMs: number) => ({ workspace: ws, network: false, timeoutMs, outputCapBytes: 100_000 });

  it("streams parsed log lines, edits the workspace, reaches its API and sees only its own key", async () => {
    process.env.OPENAI_API_KEY = "sk-gimo-own-secret";
    const logs: [LogLevel, string][] = [];
    try {
      const result = await runAgentCli(
        claudeAdapter,
        {
          prompt: `port=${port} edit src/a.txt`,
          workspace: ws,
          apiKey: "sk-ant-test",
          apiHosts: [`127.0.0.1:${port}`],
          options: { command: cli },
        },
        sandbox,
        spec(20_000),
        { onLog: (level, msg) => logs.push([level, msg]) },
      );
      const text = logs.map(([, m]) => m).join("\n");
      expect(result.ok).toBe(true);
      expect(text).toContain("claude started (model fake-model)");
      expect(text).toContain("model api: reached");
      expect(connections).toBeGreaterThan(0);
      expect(text).toContain("→ Edit src/a.txt");
      expect(text).toContain("env: key=sk-ant-test openai=absent sandbox=1 home=/tmp");
      expect(logs).toContainEqual(["info", "claude finished: done editing"]);
      expect(result.summary).toBe("done editing");
      expect(result.usage).toEqual({ input_tokens: 100, output_tokens: 20 });
      expect(readFileSync(join(ws, "src", "a.txt"), "utf8")).toBe("edited by fake claude\n");
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
  });

  it("stops the CLI at the wall budget", async () => {
    const logs: string[] = [];
    const result = await runAgentCli(
      claudeAdapter,
      { prompt: `port=${port} slow`, workspace: ws, options: { command: cli } },
      sandbox,
      spec(1_500),
      { onLog: (_level, msg) => logs.push(msg) },
    );
    expect(result.ok).toBe(false);
    expect(result.command.timedOut).toBe(true);
    expect(result.command.durationMs).toBeLessThan(5_000);
    expect(logs.some((m) => m.includes("env: key=absent"))).toBe(true); // it streamed before it was stopped
    expect(logs.at(-1)).toMatch(/ran past its time budget/);
  });

  it("says so when the CLI is not installed", async () => {
    const logs: string[] = [];
    const result = await runAgentCli(
      claudeAdapter,
      { prompt: "x", workspace: ws, options: { command: join(root, "bin", "nope") } },
      sandbox,
      spec(5_000),
      { onLog: (_level, msg) => logs.push(msg) },
    );
    expect(result.ok).toBe(false);
    expect(logs.at(-1)).toMatch(/was not found: install it or set options.command/);
  });
});

describe("line handling", () => {
  it("joins streamed fragments into one line and splits lines across chunks", async () => {
    const chunks = [
      '{"type":"init","model":"g"}\n{"type":"message","role":"assistant","content":"Hel',
      'lo ","delta":true}\n{"type":"message","role":"assistant","content":"world","delta":true}\n',
      '{"type":"tool_use","tool_name":"write_file","parameters":{"file_path":"a.ts"}}\n',
      '{"type":"result","status":"success","stats":{"input_tokens":5,"output_tokens":2}}',
    ];
    const fake: Sandbox = {
      kind: "off",
      user: undefined,
      describe: async () => "fake",
      run: () => Promise.reject(new Error("unused")),
      prepareProcess: () => Promise.reject(new Error("unused")),
      async runArgv(_argv, spec, opts) {
        expect(spec.network).toBe(true);
        expect(spec.env).toEqual({ GEMINI_API_KEY: "k", GEMINI_CLI_TRUST_WORKSPACE: "true" });
        for (const c of chunks) opts?.onOutput?.(c);
        return {
          exitCode: 0,
          signal: null,
          output: chunks.join(""),
          timedOut: false,
          truncated: false,
          durationMs: 1,
        } satisfies CommandResult;
      },
    };
    const logs: string[] = [];
    const result = await runAgentCli(
      geminiAdapter,
      { prompt: "p", workspace: "/w", apiKey: "k" },
      fake,
      {
        workspace: "/w",
        network: false,
        env: { OPENAI_API_KEY: "must-not-pass" },
        timeoutMs: 1_000,
        outputCapBytes: 1_000,
      },
      { onLog: (_l, m) => logs.push(m) },
    );
    expect(logs.slice(1)).toEqual([
      "gemini started (model g)",
      "Hello world",
      "→ write_file a.ts",
      "gemini finished",
    ]);
    expect(result.usage).toEqual({ input_tokens: 5, output_tokens: 2 });
  });
});

describe("home files", () => {
  it("writes them under $HOME with sh, quoted, then execs the CLI's own argv", () => {
    const argv = withHomeFiles(["/bin/cli", "-p", "x"], { ".cli/settings.json": `{"a":"it's"}` });
    expect(argv.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(argv.slice(3)).toEqual(["sh", "/bin/cli", "-p", "x"]);
    const out = execFileSync(
      argv[0] ?? "",
      [...argv.slice(1, 4), "/bin/sh", "-c", 'cat "$HOME/.cli/settings.json"'],
      {
        env: { HOME: mkdtempSync(join(tmpdir(), "gimo-home-")), PATH: "/usr/bin:/bin" },
      },
    ).toString();
    expect(out).toBe(`{"a":"it's"}`);
    expect(withHomeFiles(["/bin/cli"], undefined)).toEqual(["/bin/cli"]);
  });

  it("refuses a path that is not a plain relative one", () => {
    for (const bad of ["../x", "/etc/passwd", "a/../../b", "a b", "$(x)"])
      expect(() => withHomeFiles(["/bin/cli"], { [bad]: "" })).toThrow(/plain relative path/);
  });
});
