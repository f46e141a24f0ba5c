import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fileRequestNumbers } from "./request-numbers.ts";
import { credentialRequests } from "./requests.ts";
import { openFileVault } from "./vault-file.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "gimo-requests-"));
  dirs.push(dataDir);
  const vault = openFileVault({ dataDir, masterKey: "k" });
  return {
    vault,
    requests: credentialRequests({ numbers: fileRequestNumbers(dataDir), vault, env }),
    dataDir,
  };
}

describe("credential requests", () => {
  it("numbers referenced variables in sorted order and reports where values exist", async () => {
    const { requests } = setup({ GITHUB_TOKEN: "ghp_from_env" });
    const config = { planner: { api_key: "${OPENAI_API_KEY}" }, forge: { token: "${GITHUB_TOKEN}" } };
    expect(await requests.list(config)).toEqual([
      { id: "REQ-001", name: "GITHUB_TOKEN", status: "PROVIDED", source: "env" },
      { id: "REQ-002", name: "OPENAI_API_KEY", status: "WAITING", source: null },
    ]);
  });

  it("keeps numbers stable when the configuration changes", async () => {
    const { requests, vault, dataDir } = setup();
    await requests.list({ a: "${OPENAI_API_KEY}", b: "${GITHUB_TOKEN}" });
    const later = await requests.list({ a: "${OPENAI_API_KEY}", c: "${ANTHROPIC_API_KEY}" });
    expect(later.map((r) => [r.id, r.name])).toEqual([
      ["REQ-002", "OPENAI_API_KEY"],
      ["REQ-003", "ANTHROPIC_API_KEY"],
    ]);
    const reopened = credentialRequests({ numbers: fileRequestNumbers(dataDir), vault, env: {} });
    expect((await reopened.list({ x: "${GITHUB_TOKEN}" }))[0]?.id).toBe("REQ-001");
  });

  it("stores a provided value in the vault and never returns it", async () => {
    const { requests, vault } = setup();
    await requests.list({ planner: { api_key: "${OPENAI_API_KEY}" } });
    const provided = await requests.provide("REQ-001", "sk-very-secret-value");
    expect(provided).toEqual({ id: "REQ-001", name: "OPENAI_API_KEY", status: "PROVIDED", source: "vault" });
    expect(JSON.stringify(await requests.list({ k: "${OPENAI_API_KEY}" }))).not.toContain("sk-very-secret");
    expect(await vault.get("OPENAI_API_KEY")).toBe("sk-very-secret-value");
    await expect(requests.provide("REQ-999", "v")).rejects.toMatchObject({ code: "not_found" });
    await expect(requests.provide("REQ-001", "")).rejects.toMatchObject({ code: "validation_failed" });
  });
});
