import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, loadRunnerConfig } from "./config.ts";

describe("configuration", () => {
  it("gives the server and a remote runner the same work settings from the same variables", () => {
    const env = {
      GIMO_DATA_DIR: "/srv/gimo",
      GIMO_SANDBOX: "OFF",
      GIMO_SANDBOX_UID: "70000",
      GIMO_SANDBOX_CGROUP: "/sys/fs/cgroup/gimo",
      LOG_LEVEL: "warn",
      GIT_AUTHOR_NAME: "Bot",
      GIT_AUTHOR_EMAIL: "bot@corp",
    };
    const server = loadConfig(env);
    const runner = loadRunnerConfig(env);
    for (const key of [
      "dataDir",
      "sandbox",
      "sandboxUid",
      "sandboxCgroup",
      "logLevel",
      "gitIdentity",
    ] as const)
      expect(runner[key], key).toEqual(server[key]);
    expect(runner.sandbox).toBe("off");
    expect(runner.gitIdentity).toEqual({
      authorName: "Bot",
      authorEmail: "bot@corp",
      committerName: "Bot",
      committerEmail: "bot@corp",
    });
  });

  it("defaults: GIMO <gimo@localhost>, the sandbox on, .orch_data, the local server", () => {
    const runner = loadRunnerConfig({});
    expect(runner.gitIdentity).toEqual({
      authorName: "GIMO",
      authorEmail: "gimo@localhost",
      committerName: "GIMO",
      committerEmail: "gimo@localhost",
    });
    expect(runner.sandbox).toBe("on");
    expect(runner.dataDir).toBe(resolve(".orch_data"));
    expect(runner.servers).toBe("http://127.0.0.1:9325");
    expect(runner.token).toBeUndefined();
  });

  it("a runner's token is GIMO_TOKEN, else ORCH_RUNNER_TOKEN; blank values count as unset", () => {
    expect(loadRunnerConfig({ GIMO_TOKEN: "a", ORCH_RUNNER_TOKEN: "b" }).token).toBe("a");
    expect(loadRunnerConfig({ GIMO_TOKEN: " ", ORCH_RUNNER_TOKEN: "b" }).token).toBe("b");
    expect(loadRunnerConfig({ GIMO_URL: "http://a:1,http://b:2" }).servers).toBe("http://a:1,http://b:2");
  });

  it("refuses values it cannot read, naming the variable, in the runner as in the server", () => {
    for (const load of [loadConfig, loadRunnerConfig]) {
      expect(() => load({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL must be one of/);
      expect(() => load({ GIMO_SANDBOX: "maybe" })).toThrow(/GIMO_SANDBOX must be on or off/);
      expect(() => load({ GIMO_SANDBOX_UID: "0" })).toThrow(/GIMO_SANDBOX_UID must be an integer >= 1/);
    }
  });
});
