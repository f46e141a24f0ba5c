/**
 * `npm run bench:integrations`: what the integration gateway adds to a call. For each kind of
 * service, calls alternate one direct call and one through GIMO's gateway (`services.gateway.call`:
 * lookup, allow-list, ajv argument check, secret resolution, the address guard's own DNS lookup and
 * check, the call with its cap and timeout, redaction, and the `integration.called` event written
 * to the hash-chained log — one SQLite commit), one at a time, after `--warmup` pairs:
 *
 *   openapi      a small node:http service in its own process: direct = Node's fetch
 *                (keep-alive); gateway = the guarded fetch (a fresh connection per call)
 *   mcp http     @modelcontextprotocol/server-everything over Streamable HTTP: direct = the SDK
 *                client connected once, `tools/call echo`; gateway = the same call through GIMO
 *   mcp stdio    server-everything over stdio: direct = the SDK client spawning it plainly;
 *                gateway = GIMO's session, the server inside its sandbox
 *
 * Prints p50/p99/mean per row and the gateway/direct ratios, in the same process, same run.
 *
 *   npm run bench:integrations                 # 200 pairs per kind after 20 warm-up pairs
 *   npm run bench:integrations -- --calls 500 --warmup 50 --sandbox off
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadConfig } from "../../src/config.ts";
import { systemPrincipal } from "../../src/core/roles.ts";
import { createGimo } from "../../src/gimo.ts";
import { createLogger } from "../../src/log.ts";
import { everythingServer, startEverythingHttp } from "../../test/support/integration-servers.ts";
import { createRepo, percentile } from "../support.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "200" },
    warmup: { type: "string", default: "20" },
    sandbox: { type: "string", default: "on" },
  },
});
const calls = Number(values.calls);
const warmup = Number(values.warmup);
const root = mkdtempSync(join(tmpdir(), "gimo-bench-integrations-"));

const service = fork(join(import.meta.dirname, "service.ts"));
const serviceUrl = await new Promise<string>((resolve, reject) => {
  service.once("message", (m: { url: string }) => resolve(m.url));
  service.once("exit", (code) => reject(new Error(`the service exited (${code})`)));
});
const everything = await startEverythingHttp();
const gimo = await createGimo(
  loadConfig(
    { GIMO_DATA_DIR: join(root, "data"), GIMO_EMBEDDED_RUNNERS: "0", GIMO_SANDBOX: values.sandbox ?? "on" },
    { port: 0 },
  ),
  {
    repoPath: createRepo(root),
    logger: createLogger("silent"),
    services: { env: { BENCH_KEY: "bench-key-1234" } },
  },
);
const { integrations, gateway } = gimo.services;
const projectId = (await gimo.services.projects.list(1)).items[0]?.id ?? null;

async function register(body: Parameters<typeof integrations.create>[1], operation: string) {
  const created = await integrations.create(systemPrincipal, body);
  await integrations.setAllowlist(systemPrincipal, created.id, { operations: [{ operation }] });
  return created.name;
}
const common = {
  headers: {},
  allow_offline: false,
  allow_private: true,
  timeout_ms: 30_000,
  max_response_bytes: 1_048_576,
};
await register(
  { ...common, name: "svc", kind: "openapi", base_url: serviceUrl, headers: { "x-key": "${BENCH_KEY}" } },
  "ping",
);
await register({ ...common, name: "mcphttp", kind: "mcp", base_url: everything.url }, "echo");
await register(
  {
    ...common,
    name: "mcpstdio",
    kind: "mcp",
    stdio: { command: "node", args: [everythingServer, "stdio"], env: {}, network: false },
  },
  "echo",
);

const viaGateway = (integration: string, operation: string, args: Record<string, unknown>) => async () => {
  const outcome = await gateway.call({
    integration,
    operation,
    args,
    caller: "run",
    projectId,
    runId: null,
    principal: systemPrincipal,
  });
  if (!outcome.ok) throw new Error(`${integration}.${operation}: ${outcome.status} ${outcome.content}`);
};

const httpClient = new Client({ name: "bench", version: "1" });
await httpClient.connect(new StreamableHTTPClientTransport(new URL(everything.url)));
const stdioClient = new Client({ name: "bench", version: "1" });
await stdioClient.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: [everythingServer, "stdio"],
    stderr: "ignore",
  }),
);
const echo = (client: Client) => async () => {
  const result = await client.callTool({ name: "echo", arguments: { message: "bench" } });
  if (result.isError) throw new Error("echo failed");
};

const rows: [string, () => Promise<void>, () => Promise<void>][] = [
  [
    "openapi",
    async () => {
      const res = await fetch(`${serviceUrl}/ping?n=1`, { headers: { "x-key": "bench-key-1234" } });
      if (!res.ok) throw new Error(`ping ${res.status}`);
      await res.text();
    },
    viaGateway("svc", "ping", { n: 1 }),
  ],
  ["mcp http", echo(httpClient), viaGateway("mcphttp", "echo", { message: "bench" })],
  ["mcp stdio", echo(stdioClient), viaGateway("mcpstdio", "echo", { message: "bench" })],
];

const fmt = (n: number) => n.toFixed(2).padStart(8);
console.log(
  `${calls} calls per row after ${warmup} warm-up pairs, one at a time; sandbox ${values.sandbox}\n`,
);
console.log(`${"row".padEnd(22)}  p50 ms   p99 ms  mean ms   gateway/direct`);
for (const [name, direct, through] of rows) {
  const times = { direct: [] as number[], gateway: [] as number[] };
  for (let i = 0; i < warmup + calls; i++) {
    for (const [kind, call] of [
      ["direct", direct],
      ["gateway", through],
    ] as const) {
      const started = performance.now();
      await call();
      if (i >= warmup) times[kind].push(performance.now() - started);
    }
  }
  const stats = (list: number[]) => {
    const sorted = [...list].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      mean: list.reduce((a, b) => a + b, 0) / list.length,
    };
  };
  const d = stats(times.direct);
  const g = stats(times.gateway);
  console.log(`${`${name} direct`.padEnd(22)}${fmt(d.p50)} ${fmt(d.p99)} ${fmt(d.mean)}   (baseline)`);
  console.log(
    `${`${name} gateway`.padEnd(22)}${fmt(g.p50)} ${fmt(g.p99)} ${fmt(g.mean)}   ${(g.p50 / d.p50).toFixed(2)}× p50 (+${(g.p50 - d.p50).toFixed(2)} ms), ${(g.p99 / d.p99).toFixed(2)}× p99`,
  );
}

await httpClient.close();
await stdioClient.close();
await gimo.close();
await everything.close();
await new Promise<void>((resolve) => {
  (service as ChildProcess).once("exit", () => resolve());
  service.send("stop");
});
rmSync(root, { recursive: true, force: true });
