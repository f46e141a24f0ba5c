import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { createGimo, listen } from "../src/gimo.ts";
import { createLogger } from "../src/log.ts";
import { startGimo } from "./support/harness.ts";

describe("first start", () => {
  const dir = mkdtempSync(join(tmpdir(), "gimo-boot-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("mints an admin token once, writes it 0600 for the CLI, and it works", async () => {
    const config = loadConfig({ GIMO_DATA_DIR: dir }, { port: 0 });
    const logs: string[] = [];
    const first = await createGimo(config, { logger: createLogger("debug", (l) => logs.push(l)) });
    const server = await listen(first);
    try {
      const token = first.bootstrapToken as string;
      expect(token).toMatch(/^gimo_/);
      const file = join(dir, "admin.token");
      expect(readFileSync(file, "utf8").trim()).toBe(token);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const res = await fetch(`${server.url}/ops/tokens`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(logs.join("\n")).not.toContain(token);
    } finally {
      await server.close();
      await first.close();
    }
    const second = await createGimo(config, { logger: createLogger("silent") });
    expect(second.bootstrapToken).toBeUndefined();
    await second.close();
  });
});

describe("rate limiting", () => {
  it("answers 429 with retry-after once a client spends its burst", async () => {
    const g = await startGimo("sqlite", { rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof g.request>> | undefined;
      for (let i = 0; i < 5; i++) {
        const res = await g.request("GET", "/ops/tasks", { role: "actions" });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(limited?.body.error.code).toBe("rate_limited");
      expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThan(0);
      // another client is not held back by the first one's spending
      expect((await g.request("GET", "/ops/tasks", { role: "operator" })).status).toBe(200);
    } finally {
      await g.close();
    }
  });
});
