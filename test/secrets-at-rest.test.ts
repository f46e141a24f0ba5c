import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimedRun } from "../src/contract/runner.ts";
import { embeddedExecutorDeps } from "../src/embedded/executor-deps.ts";
import { createGimo } from "../src/gimo.ts";
import { type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { createLogger } from "../src/log.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * Literal secrets in the configuration — a provider's `api_key` or header value written as the
 * value itself rather than a `${VAR}` reference, a project's forge token or model override key —
 * are sealed with the vault's key (AES-256-GCM) before they are stored: the raw `settings` and
 * `projects` rows hold no plaintext, and the models still get the right key, over real HTTP.
 */
const KEY = "sk-literal-AT-REST-7f6e5d4c";
const HEADER = "hdr-literal-AT-REST-3b2a19";
const PROJECT_KEY = "sk-project-literal-AT-REST-0c9d";
const FORGE = "ghp_literal_AT_REST_8e7f6a";
const OLD = "sk-stored-in-clear-by-an-older-gimo-55aa";
const ALL = [KEY, HEADER, PROJECT_KEY, FORGE, OLD];

describe.each(storageKinds())("literal secrets at rest on %s", (kind) => {
  let g: TestGimo;
  let model: ScriptedModel;
  beforeAll(async () => {
    model = await startScriptedModel();
    g = await startGimo(kind, { generateWaitSeconds: 10 });
  });
  afterAll(async () => {
    await g?.close();
    await model?.close();
  });

  const db = () => g.gimo.services.ctx.store.db;
  const rawRows = async () =>
    JSON.stringify([
      await db().selectFrom("settings").selectAll().execute(),
      await db().selectFrom("projects").selectAll().execute(),
      await db().selectFrom("events").selectAll().execute(),
      await db().selectFrom("idempotency").selectAll().execute(),
    ]);
  const expectNoPlaintext = async () => {
    const rows = await rawRows();
    for (const secret of ALL)
      expect(rows.includes(secret), `${secret.slice(0, 12)}… stored in clear`).toBe(false);
    return rows;
  };
  const generate = async (project?: string) => {
    model.push({ json: samplePlan("Planned") });
    const res = await g.request("POST", "/ops/generate", {
      role: "operator",
      body: { prompt: "plan it", ...(project ? { project } : {}) },
    });
    expect(res.status, res.text).toBe(201);
    return model.requests.at(-1)?.headers;
  };

  it("seals a provider's literal key and header values; the model still receives them", async () => {
    const planner = {
      type: "openai_compat",
      base_url: model.url,
      model: "scripted",
      api_key: KEY,
      options: { headers: { "x-api-secret": HEADER } },
    };
    const put = await g.request("PUT", "/ops/provider", {
      headers: { "idempotency-key": "p1" },
      body: { planner },
    });
    expect(put.status, put.text).toBe(200);
    const rows = await expectNoPlaintext();
    expect(rows).toContain("gimo-sealed:");
    const view = await g.request("GET", "/ops/provider");
    expect(view.body.planner).toMatchObject({ api_key: "[redacted]", api_key_set: true });
    expect(view.body.planner.options.headers).toEqual({ "x-api-secret": "[redacted]" });

    const headers = await generate();
    expect(headers?.authorization).toBe(`Bearer ${KEY}`);
    expect(headers?.["x-api-secret"]).toBe(HEADER);

    // What a client read can be sent back: [redacted] keeps the sealed secret.
    const { api_key_set: _set, ...shown } = view.body.planner;
    const again = await g.request("PUT", "/ops/provider", { body: { planner: shown } });
    expect(again.status, again.text).toBe(200);
    await expectNoPlaintext();
    expect((await generate())?.authorization).toBe(`Bearer ${KEY}`);
    expect((await g.request("GET", "/ops/provider/health")).body.planner.ok).toBe(true);
  });

  it("seals a project's literal forge token and model override key", async () => {
    const patch = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: {
        forge: { kind: "github", token: FORGE },
        planner: { type: "openai_compat", base_url: model.url, model: "scripted", api_key: PROJECT_KEY },
      },
    });
    expect(patch.status, patch.text).toBe(200);
    expect(patch.body.forge).toMatchObject({ token: null, token_set: true });
    expect(patch.body.planner).toMatchObject({ api_key: null, api_key_set: true });
    await expectNoPlaintext();
    expect((await generate(g.projectId))?.authorization).toBe(`Bearer ${PROJECT_KEY}`);
    // The embedded runner's executor resolves the forge token the way it pushes with it.
    const deps = embeddedExecutorDeps(g.gimo.services, () => {});
    expect(await deps.forgeToken({ project: { id: g.projectId } } as ClaimedRun)).toBe(FORGE);
    // A new project with secrets is sealed from its first write.
    const created = await g.request("POST", "/ops/projects", {
      body: {
        name: "sealed-from-birth",
        repo_url: "https://example.com/x.git",
        base_branch: "main",
        forge: { kind: "gitea", token: FORGE },
      },
    });
    expect(created.status, created.text).toBe(201);
    await expectNoPlaintext();
  });

  it("seals secrets an older GIMO stored in clear when it starts, and they keep working", async () => {
    const providers = await db()
      .selectFrom("settings")
      .select("value")
      .where("key", "=", "providers")
      .executeTakeFirstOrThrow();
    const plain = JSON.parse(providers.value);
    plain.planner = { type: "openai_compat", base_url: model.url, model: "scripted", api_key: OLD };
    await db()
      .updateTable("settings")
      .set({ value: JSON.stringify(plain) })
      .where("key", "=", "providers")
      .execute();
    const project = await db()
      .selectFrom("projects")
      .select("config")
      .where("id", "=", g.projectId)
      .executeTakeFirstOrThrow();
    const config = JSON.parse(project.config);
    config.forge = { kind: "github", token: OLD };
    delete config.planner;
    await db()
      .updateTable("projects")
      .set({ config: JSON.stringify(config) })
      .where("id", "=", g.projectId)
      .execute();
    expect(await rawRows()).toContain(OLD);

    // A second GIMO on the same database and data dir (a restart) seals them at start.
    const restarted = await createGimo(g.gimo.config, {
      logger: createLogger("silent"),
      services: { env: {} },
    });
    try {
      await expectNoPlaintext();
      const deps = embeddedExecutorDeps(restarted.services, () => {});
      expect(await deps.forgeToken({ project: { id: g.projectId } } as ClaimedRun)).toBe(OLD);
    } finally {
      await restarted.close();
    }
    expect((await generate())?.authorization).toBe(`Bearer ${OLD}`);
    const verify = await g.request("GET", "/ops/audit/verify");
    expect(verify.body.ok).toBe(true);
  });

  it("shows none of them in a response or a log line", () => {
    const everything = [...g.responses, ...g.logs].join("\n");
    for (const secret of ALL)
      expect(everything.includes(secret), `${secret.slice(0, 12)}… leaked`).toBe(false);
  });
});
