import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGimo, type TestGimo } from "./support/harness.ts";

/** What a new user meets first, by hand with curl: answers that end lines, input refused early. */
describe("first contact", () => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo("sqlite");
  }, 60_000);
  afterAll(async () => {
    await g?.close();
  });

  it("/health and /status end with a newline, so the shell prompt starts on its own line", async () => {
    const health = await g.request("GET", "/health", { role: null });
    expect(health.text).toBe('{"ok":true}\n');
    expect(health.headers.get("content-type")).toContain("application/json");
    const status = await g.request("GET", "/status", { role: "actions" });
    expect(status.text.endsWith("}\n")).toBe(true);
    expect(status.body.name).toBe("gimo");
  });

  it("a repo_url that is not a git URL is a 400 at registration, not a failure at run time", async () => {
    for (const repo_url of [
      "not a url",
      "ftp://example.com/r.git",
      "ext::sh -c touch% /tmp/x",
      "-uhttps://x",
      "-o@host:x",
      "git@-oProxy:x",
    ]) {
      const res = await g.request("POST", "/ops/projects", {
        role: "admin",
        body: { name: "bad", repo_url },
      });
      expect(res.status, repo_url).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.text).toContain("git clone URL");
    }
    for (const repo_url of [
      "https://example.com/o/r.git",
      "git@example.com:o/r.git",
      "ssh://git@example.com/o/r",
    ]) {
      const res = await g.request("POST", "/ops/projects", {
        role: "admin",
        body: { name: `ok-${repo_url.length}`, repo_url },
      });
      expect(res.status, repo_url).toBe(201);
      expect(res.body.is_default).toBe(false);
    }
  });
});
