import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { HttpRunnerApi } from "../src/runner/http-api.ts";
import { storageKinds } from "./support/databases.ts";
import { samplePlan, startGimo, type TestGimo } from "./support/harness.ts";

/**
 * Secrets never leak: a whole flow that handles an environment API key, a vault secret and
 * bearer tokens — with a model and a runner that even try to echo them — and then every response,
 * log line, event and stored row is searched for the values. None may appear.
 */
const ENV_KEY = "sk-env-LEAKCHECK-0a1b2c3d4e5f";
const VAULT_SECRET = "ghp_VAULTLEAKCHECK_9z8y7x6w";

describe.each(storageKinds())("secrets on %s", (kind) => {
  let g: TestGimo;
  let model: ScriptedModel;
  beforeAll(async () => {
    model = await startScriptedModel();
    g = await startGimo(kind, { generateWaitSeconds: 10 }, { env: { OPENAI_API_KEY: ENV_KEY } });
  });
  afterAll(async () => {
    await g?.close();
    await model?.close();
  });

  it("appear in no response, log line, event or stored row", async () => {
    // configure: one key from the environment, one from the vault
    await g.request("PUT", "/ops/provider", {
      body: {
        planner: { type: "openai_compat", base_url: model.url, model: "m", api_key: "${OPENAI_API_KEY}" },
        executor: { type: "openai_compat", base_url: model.url, model: "m", api_key: "${FORGE_TOKEN}" },
      },
    });
    const requests = await g.request("GET", "/ops/requests");
    const forge = requests.body.items.find((r: { name: string }) => r.name === "FORGE_TOKEN");
    expect(
      (await g.request("PUT", `/ops/requests/${forge.id}`, { body: { value: VAULT_SECRET } })).status,
    ).toBe(200);
    await g.request("PATCH", `/ops/projects/${g.projectId}`, {
      body: { forge: { kind: "github", token: "${FORGE_TOKEN}" }, max_concurrent_runs: 5 },
    });

    // plan: the model echoes the key it was sent into its plan
    model.push({ json: { ...samplePlan("Echo"), summary: `my key is ${ENV_KEY}` } });
    const draft = await g.request("POST", "/ops/generate", { role: "operator", body: { prompt: "do it" } });
    expect(draft.status).toBe(201);
    const approved = await g.request("POST", `/ops/drafts/${draft.body.id}/approve`, {
      body: { auto_run: true },
    });

    // run: the runner's output and error contain both secrets
    const api = new HttpRunnerApi(g.url, g.tokens.runner);
    const { runner_id } = await api.register({ name: "leaky" });
    const claimed = await api.claim(runner_id, 5);
    expect(claimed?.run.id).toBe(approved.body.run.id);
    const fence = {
      runId: claimed?.run.id as string,
      attempt: claimed?.run.attempt as number,
      runnerId: runner_id,
    };
    await api.appendLogs(fence, [
      { level: "info", msg: `env says OPENAI_API_KEY=${ENV_KEY} and token ${VAULT_SECRET}` },
    ]);
    await api.updateSteps(fence, [
      { id: "s1", status: "failed", detail: `auth with ${VAULT_SECRET} failed` },
    ]);
    await api.complete(fence, {
      status: "failed",
      error: { code: "push_failed", message: `remote rejected ${VAULT_SECRET}` },
      result: { link: `https://x:${VAULT_SECRET}@example.com` },
    });

    // read everything back, every way
    for (const path of [
      "/ops/provider",
      "/ops/provider/health",
      "/ops/requests",
      `/ops/projects/${g.projectId}`,
      `/ops/tasks/${draft.body.task_id}`,
      `/ops/drafts/${draft.body.id}`,
      `/ops/runs/${fence.runId}`,
      `/ops/runs/${fence.runId}/logs`,
      "/ops/audit?limit=200",
      "/status",
      "/ops/metrics",
      "/metrics",
    ]) {
      expect((await g.request("GET", path)).status, path).toBe(200);
    }
    const sse = await fetch(`${g.url}/ops/runs/${fence.runId}/events?after=0`, {
      headers: { authorization: `Bearer ${g.tokens.admin}` },
      signal: AbortSignal.timeout(1_500),
    });
    let stream = "";
    try {
      for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>)
        stream += Buffer.from(chunk).toString();
    } catch {}
    expect(stream).toContain("env says OPENAI_API_KEY=");

    const tables = [
      "projects",
      "plans",
      "tasks",
      "drafts",
      "approved",
      "runs",
      "run_logs",
      "events",
      "settings",
    ] as const;
    const rows: string[] = [];
    for (const table of tables)
      rows.push(JSON.stringify(await g.gimo.services.ctx.store.db.selectFrom(table).selectAll().execute()));

    const everything = [...g.responses, ...g.logs, stream, ...rows].join("\n");
    expect(everything).toContain("[redacted]");
    for (const secret of [ENV_KEY, VAULT_SECRET, g.tokens.admin, g.tokens.operator, g.tokens.runner]) {
      expect(everything.includes(secret), `a secret leaked: ${secret.slice(0, 8)}…`).toBe(false);
    }
    // the model did receive the key — that is where it is meant to go
    expect(model.requests[0]?.headers.authorization).toBe(`Bearer ${ENV_KEY}`);
  });
});
