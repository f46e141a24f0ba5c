import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The README's walkthrough, pasted into bash as a newcomer would, against a `gimo serve` started
 * the way the README starts it (embedded default, first-start admin token in .orch_data/).
 */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

function walkthrough(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = readme.match(
    /<!-- walkthrough:start -->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/,
  );
  if (!block?.[1]) throw new Error("README has no walkthrough block");
  return block[1];
}

describe.each([
  { where: "the default data dir", dataDir: undefined },
  { where: "a custom GIMO_DATA_DIR", dataDir: "elsewhere/gimo-data" },
])("the README walkthrough, with $where", ({ dataDir }) => {
  let dir: string;
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gimo-readme-"));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(ORCH_|GIMO_|DATABASE_URL)/.test(k)),
    );
    server = spawn(process.execPath, [join(root, "src/operators/cli/main.ts"), "serve", "--port", "0"], {
      cwd: dir,
      env: { ...env, LOG_LEVEL: "warn", ...(dataDir ? { GIMO_DATA_DIR: dataDir } : {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    url = await new Promise<string>((done, fail) => {
      let out = "";
      server.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const m = out.match(/listening on (http:\/\/\S+)/);
        if (m?.[1]) done(m[1]);
      });
      server.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
      server.once("exit", (code) => fail(new Error(`gimo serve exited with ${code}: ${out}`)));
    });
  });

  afterAll(() => {
    server?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs from top to bottom and shows what it promises", async () => {
    const script = `set -euo pipefail\n${walkthrough()}`;
    const { stdout } = await run("bash", ["-c", script], {
      cwd: dir,
      env: { ...process.env, GIMO_URL: url, ...(dataDir ? { GIMO_DATA_DIR: dataDir } : {}) },
    });
    expect(stdout).toContain('{"ok":true}');
    expect(stdout).toMatch(/project: p_[0-9A-Z]{26}/);
    expect(stdout).toMatch(/draft: d_[0-9A-Z]{26}/);
    expect(stdout).toContain("only approved plans can run");
    expect(stdout).toMatch(/sha256:[0-9a-f]{64}/);
    expect(stdout).toContain("second approve: 409");
    expect(stdout).toContain("queued");
    expect(stdout).toContain("EXECUTING");
    expect(stdout).toContain("cancelled");
    expect(stdout).toMatch(/"ok":true,"checked":\d+/);
    expect(stdout.trim().split("\n").at(-1)).toBe("actions");
    expect(stdout).not.toContain("undefined");
  });

  it("stops at the first step that fails instead of going on with empty ids", async () => {
    const script = walkthrough();
    const failed = await run("bash", ["-c", script], {
      cwd: dir,
      env: { ...process.env, GIMO_URL: url, GIMO_DATA_DIR: "no-such-dir" },
    }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.stdout).not.toContain("project:");
    expect(failed?.stderr).toContain("no-such-dir/admin.token");

    mkdirSync(join(dir, "wrong-token"), { recursive: true });
    writeFileSync(join(dir, "wrong-token", "admin.token"), "not-the-token\n");
    const refused = await run("bash", ["-c", script], {
      cwd: dir,
      env: { ...process.env, GIMO_URL: url, GIMO_DATA_DIR: "wrong-token" },
    }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(refused?.code).not.toBe(0);
    expect(refused?.stdout).not.toContain("project:");
    expect(refused?.stderr).toContain("no id in");
  });
});
