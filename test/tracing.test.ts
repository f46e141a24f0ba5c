import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTracing, tracer, tracingConfig } from "../src/core/tracing.ts";
import { createTestDatabase, storageKinds, type TestDatabase } from "./support/databases.ts";
import { exited, kill, processTokens, type ServerProcess, startServerProcess } from "./support/processes.ts";
import { createTestRepo, type TestRepo } from "./support/repo.ts";
import { commandPlan, eventually } from "./support/runs.ts";

/**
 * OpenTelemetry traces (core/tracing.ts), for real: a GIMO server and a remote `gimo runner` (the
 * built-in executor), both as processes with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a small
 * OTLP/HTTP receiver here (POST /v1/traces, JSON). One approval over HTTP, carrying a caller's
 * `traceparent`, must come back as one trace: the request → the enqueue → the claim → the runner's
 * run and its steps, each span's parent the one before it. No token, no Authorization header may
 * appear anywhere in what was exported. And with the variable unset, no OpenTelemetry module is
 * loaded at all.
 */
const CLI = resolve(import.meta.dirname, "../src/operators/cli/main.ts");

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  service: string;
}

function otlpReceiver() {
  const raw: string[] = [];
  const spans: OtlpSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const text = Buffer.concat(chunks).toString();
      raw.push(JSON.stringify(req.headers), text);
      // biome-ignore lint/suspicious/noExplicitAny: OTLP JSON as it comes
      const body = JSON.parse(text) as any;
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === "service.name")?.value
          ?.stringValue;
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return { server, raw, spans };
}

describe.each(storageKinds())("OpenTelemetry traces on %s", (kind) => {
  let db: TestDatabase;
  let repo: TestRepo;
  let receiver: ReturnType<typeof otlpReceiver>;
  let endpoint: string;
  const tokens = processTokens();
  let server: ServerProcess;
  let runner: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    repo = await createTestRepo();
    receiver = otlpReceiver();
    await new Promise<void>((done) => receiver.server.listen(0, "127.0.0.1", done));
    const address = receiver.server.address() as { port: number };
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    if (runner) await kill(runner);
    if (server) await kill(server.child);
    receiver?.server.close();
    await repo?.remove();
    await db?.drop();
  });

  it("one trace runs from the approving request through the claim to the remote runner's steps; no secret in it", async () => {
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "gimo-under-test" };
    server = await startServerProcess(db, tokens, { repo: repo.path, env: otel });
    runner = spawn(
      process.execPath,
      [CLI, "runner", "--server", server.url, "--token", tokens.runner, "--grace", "5"],
      {
        env: {
          ...process.env,
          ...otel,
          OTEL_SERVICE_NAME: "",
          GIMO_SANDBOX: "off",
          GIMO_DATA_DIR: db.dataDir,
          LOG_LEVEL: "error",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const runnerOutput: string[] = [];
    runner.stdout?.on("data", (c: Buffer) => runnerOutput.push(c.toString()));
    runner.stderr?.on("data", (c: Buffer) => runnerOutput.push(c.toString()));
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const r = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: the API's JSON
      return { status: r.status, body: (await r.json()) as any };
    };
    const project = (await call("GET", "/ops/projects")).body.items[0];
    expect(
      (await call("PATCH", `/ops/projects/${project.id}`, { test_command: "test -f generated.txt" })).status,
    ).toBe(200);
    const draft = await call("POST", "/ops/drafts", {
      prompt: "generate",
      plan: commandPlan("Generate", "echo ok > generated.txt"),
    });
    expect(draft.status).toBe(201);

    // The caller's own trace: GIMO's spans must join it.
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const approved = await call(
      "POST",
      `/ops/drafts/${draft.body.id}/approve`,
      { auto_run: true },
      { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    );
    expect(approved.status, JSON.stringify(approved.body)).toBe(201);
    const runId = approved.body.run.id as string;
    const ended = await eventually(
      async () => {
        const r = await call("GET", `/ops/runs/${runId}`);
        return ["succeeded", "failed", "cancelled"].includes(r.body.status) ? r.body : undefined;
      },
      90_000,
      200,
    );
    expect(ended.status, `${JSON.stringify(ended.error)}\n${runnerOutput.join("")}`).toBe("succeeded");

    // Both processes flush their spans as they stop.
    await kill(runner, "SIGTERM");
    await kill(server.child, "SIGTERM");
    await exited(server.child);

    const trace = receiver.spans.filter((s) => s.traceId === callerTrace);
    const one = (name: string) => {
      const found = trace.filter((s) => s.name === name);
      expect(found, `${name} in ${trace.map((s) => s.name).join(", ")}`).toHaveLength(1);
      return found[0] as OtlpSpan;
    };
    const request = one("POST /ops/drafts/:id/approve");
    const enqueue = one("gimo.run.enqueue");
    const claim = one("gimo.run.claim");
    const execute = one("gimo.run.execute");
    expect(request.parentSpanId).toBe(callerSpan);
    expect(enqueue.parentSpanId).toBe(request.spanId);
    expect(claim.parentSpanId).toBe(enqueue.spanId);
    expect(execute.parentSpanId).toBe(claim.spanId);
    for (const step of ["gimo.workspace.prepare", "gimo.step.command", "gimo.tests", "gimo.commit"])
      expect(one(step).parentSpanId, step).toBe(execute.spanId);
    expect(request.service).toBe("gimo-under-test");
    expect(claim.service).toBe("gimo-under-test");
    expect(execute.service).toBe("gimo-runner"); // OTEL_SERVICE_NAME empty: the runner's default
    const attribute = (s: OtlpSpan, key: string) => s.attributes?.find((a) => a.key === key)?.value;
    expect(attribute(request, "http.response.status_code")).toEqual({ intValue: 201 });
    expect(attribute(execute, "gimo.run_id")).toEqual({ stringValue: runId });
    // Other requests (the polls) are traced too, each its own trace.
    expect(receiver.spans.some((s) => s.name === "GET /ops/runs/:id" && s.traceId !== callerTrace)).toBe(
      true,
    );

    const exported = receiver.raw.join("\n");
    for (const secret of Object.values(tokens)) expect(exported).not.toContain(secret);
    expect(exported.toLowerCase()).not.toContain("bearer");
    expect(exported.toLowerCase()).not.toContain('"authorization"');
  });

  it("loads no OpenTelemetry SDK module when OTEL_EXPORTER_OTLP_ENDPOINT is unset", async () => {
    // The server as \`gimo serve\` builds it, in a child that names every module under
    // node_modules/@opentelemetry that Node resolved (ESM and CommonJS alike pass the resolve
    // hook), with who asked for it from outside @opentelemetry, and whether the adapter loaded.
    const probe = `
      import { registerHooks } from "node:module";
      const loaded = new Set(), askedBy = new Set();
      let adapter = false;
      registerHooks({ resolve(spec, ctx, next) {
        const r = next(spec, ctx);
        if (r.url.endsWith("/core/tracing-otel.ts")) adapter = true;
        if (r.url.includes("/node_modules/@opentelemetry/")) {
          loaded.add(r.url.split("/node_modules/")[1].split("/").slice(0, 2).join("/"));
          if (!ctx.parentURL?.includes("/node_modules/@opentelemetry/")) askedBy.add(ctx.parentURL?.split("/node_modules/")[1]?.split("/")[0] ?? ctx.parentURL);
        }
        return r;
      } });
      const { startTracing, tracer, tracingConfig } = await import(${JSON.stringify(resolve(import.meta.dirname, "../src/core/tracing.ts"))});
      const { loadConfig } = await import(${JSON.stringify(resolve(import.meta.dirname, "../src/config.ts"))});
      const { createGimo, listen } = await import(${JSON.stringify(resolve(import.meta.dirname, "../src/gimo.ts"))});
      await startTracing(tracingConfig(process.env, "gimo"));
      const gimo = await createGimo(loadConfig(process.env, { port: 0 }), {});
      const server = await listen(gimo);
      const r = await fetch(server.url + "/health");
      await server.close(); await gimo.close(); await tracer().shutdown();
      process.stdout.write(JSON.stringify({ enabled: tracer().enabled, status: r.status, adapter, loaded: [...loaded].sort(), askedBy: [...askedBy].sort() }));
    `;
    const env = { ...process.env, GIMO_DATA_DIR: join(db.dataDir, "probe"), LOG_LEVEL: "error" } as Record<
      string,
      string
    >;
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    if (db.databaseUrl) env.DATABASE_URL = db.databaseUrl;
    else delete env.DATABASE_URL;
    if (db.masterKey) env.GIMO_MASTER_KEY = db.masterKey;
    const run = async (extra: Record<string, string>) =>
      JSON.parse(
        (
          await promisify(execFile)(process.execPath, ["--input-type=module", "-e", probe], {
            env: { ...env, ...extra },
            timeout: 60_000,
          })
        ).stdout,
      );
    // Unset: no adapter and no SDK package. The API package alone is there, and only because
    // prom-client (the /metrics registry, loaded before tracing existed) imports it for exemplars.
    expect(await run({})).toEqual({
      enabled: false,
      status: 200,
      adapter: false,
      loaded: ["@opentelemetry/api"],
      askedBy: ["prom-client"],
    });
    // Set: the probe does see the SDK load (so the lists above mean something).
    const set = await run({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    expect(set).toMatchObject({ enabled: true, status: 200, adapter: true });
    expect(set.loaded).toEqual(
      expect.arrayContaining(["@opentelemetry/sdk-trace", "@opentelemetry/exporter-trace-otlp-http"]),
    );
  });
});

describe("the tracing configuration", () => {
  it("reads the two variables and refuses an endpoint that is not an http(s) URL, loading nothing", async () => {
    expect(tracingConfig({}, "gimo")).toEqual({ serviceName: "gimo" });
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: " ", OTEL_SERVICE_NAME: "" }, "gimo-runner")).toEqual(
      {
        serviceName: "gimo-runner",
      },
    );
    expect(
      tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SERVICE_NAME: "ci" }, "gimo"),
    ).toEqual({ endpoint: "http://c:4318", serviceName: "ci" });
    await expect(startTracing({ endpoint: "collector:4318", serviceName: "gimo" })).rejects.toThrow(
      /must be an http\(s\) URL/,
    );
    await expect(startTracing({ endpoint: "not a url", serviceName: "gimo" })).rejects.toThrow(
      /is not a URL/,
    );
    expect(await startTracing({ serviceName: "gimo" })).toBe(tracer());
    expect(tracer().enabled).toBe(false);
  });
});
