import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storageKinds } from "./support/databases.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";

/**
 * Secrets never go into the idempotency store. A minted token's value is shown once, in the first
 * answer; the stored answer a replay sends again has the value removed (the token's id and name
 * stay, so a client that lost the first answer knows which token to revoke). Nothing else a POST
 * answers may carry a literal secret either.
 */
describe.each(storageKinds())("secrets and Idempotency-Key on %s", (kind) => {
  let g: TestGimo;
  beforeAll(async () => {
    g = await startGimo(kind);
  });
  afterAll(async () => {
    await g?.close();
  });

  const db = () => g.gimo.services.ctx.store.db;
  const everyStoredRow = async () => {
    const tables = ["idempotency", "tokens", "events", "settings", "projects"] as const;
    const rows: string[] = [];
    for (const table of tables) rows.push(JSON.stringify(await db().selectFrom(table).selectAll().execute()));
    return rows.join("\n");
  };

  it("stores no token value, replays the mint without it, and mints nothing twice", async () => {
    const mint = () =>
      g.request("POST", "/ops/tokens", {
        headers: { "idempotency-key": "mint-idem-bot" },
        body: { name: "idem-bot", role: "actions" },
      });
    const first = await mint();
    expect(first.status).toBe(201);
    const value = first.body.token as string;
    expect(value).toMatch(/^gimo_/);
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    const stored = await db()
      .selectFrom("idempotency")
      .selectAll()
      .where("key", "=", "mint-idem-bot")
      .execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.status).toBe(201);
    expect(stored[0]?.body).not.toContain(value);
    expect(await everyStoredRow()).not.toContain(value);

    const replay = await mint();
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.text).not.toContain(value);
    expect(replay.text).not.toContain("[redacted]");
    expect(replay.body.token).toBeUndefined();
    const { token: _value, ...metadata } = first.body;
    expect(replay.body).toEqual(metadata);

    const tokens = await g.request("GET", "/ops/tokens?limit=200");
    expect(tokens.body.items.filter((t: { name: string }) => t.name === "idem-bot")).toHaveLength(1);
    // The value from the first answer is the one that works.
    expect((await g.request("GET", "/ops/tasks", { token: value })).status).toBe(200);
  });

  it("answers a project's literal provider secrets masked, so none reach the store", async () => {
    const literal = "Bearer sk-literal-header-0a9b8c7d";
    const userinfo = "sk-url-userinfo-6e5f4d3c";
    const res = await g.request("POST", "/ops/projects", {
      headers: { "idempotency-key": "project-with-secrets" },
      body: {
        name: "with-secrets",
        repo_url: "https://example.com/secrets.git",
        base_branch: "main",
        executor: {
          type: "openai_compat",
          base_url: `https://user:${userinfo}@models.example.com/v1?key=${userinfo}`,
          model: "m",
          options: { headers: { authorization: literal, "x-ref": "${MODEL_HEADER}" } },
        },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.executor.options.headers).toEqual({
      authorization: "[redacted]",
      "x-ref": "${MODEL_HEADER}",
    });
    expect(res.body.executor.base_url).toBe("https://models.example.com/v1");
    const replay = await g.request("POST", "/ops/projects", {
      headers: { "idempotency-key": "project-with-secrets" },
      body: {
        name: "with-secrets",
        repo_url: "https://example.com/secrets.git",
        base_branch: "main",
        executor: {
          type: "openai_compat",
          base_url: `https://user:${userinfo}@models.example.com/v1?key=${userinfo}`,
          model: "m",
          options: { headers: { authorization: literal, "x-ref": "${MODEL_HEADER}" } },
        },
      },
    });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const read = await g.request("GET", `/ops/projects/${res.body.id}`, { role: "actions" });
    for (const text of [res.text, replay.text, read.text]) {
      expect(text).not.toContain("sk-literal-header");
      expect(text).not.toContain(userinfo);
    }
    const stored = await db().selectFrom("idempotency").selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain("sk-literal-header");
    expect(JSON.stringify(stored)).not.toContain(userinfo);
  });
});
