/**
 * `npm run bench:mcp`: what MCP adds to a call. `tools/call create_run` over Streamable HTTP (the
 * official SDK client, connected once, one POST per call) against the REST call it wraps,
 * `POST /ops/runs`, on the same server in the same run. Calls alternate one REST, one MCP, each on
 * its own freshly approved plan, one at a time (round-trip latency, not throughput); the first
 * `--warmup` pairs are not counted. Prints p50/p99/mean per kind and the MCP/REST ratios.
 *
 *   npm run bench:mcp                 # 200 pairs after 20 warm-up pairs
 *   npm run bench:mcp -- --calls 500 --warmup 50
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createRepo, percentile } from "../support.ts";

const { values } = parseArgs({
  options: { calls: { type: "string", default: "200" }, warmup: { type: "string", default: "20" } },
});
const calls = Number(values.calls);
const warmup = Number(values.warmup);
const token = `bench_${process.pid}_${Date.now()}`;
const root = mkdtempSync(join(tmpdir(), "gimo-bench-mcp-"));

const child = fork(join(import.meta.dirname, "server.ts"), [createRepo(root)], {
  env: {
    ...process.env,
    GIMO_DATA_DIR: join(root, "data"),
    ORCH_OPERATOR_TOKEN: token,
    GIMO_RATE_LIMIT_RPS: "0",
    DATABASE_URL: "",
  },
});
const url = await new Promise<string>((resolve, reject) => {
  child.once("message", (m: { url: string }) => resolve(m.url));
  child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
});

const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
async function rest(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function approvedPlan(i: number): Promise<string> {
  const plan = {
    title: `Bench plan ${i}`,
    steps: [{ id: "s1", kind: "agent", title: "Do it", instructions: "Nothing" }],
    acceptance: ["Tests green"],
  };
  const draft = await rest("POST", "/ops/drafts", { prompt: `bench ${i}`, plan });
  const approval = await rest("POST", `/ops/drafts/${(draft.json as { id: string }).id}/approve`, {
    auto_run: false,
  });
  if (approval.status !== 201) throw new Error(`approve answered ${approval.status}`);
  return (approval.json as { approved: { id: string } }).approved.id;
}

try {
  const total = calls + warmup;
  process.stdout.write(`preparing ${2 * total} approved plans…\n`);
  const plans: string[] = [];
  for (let i = 0; i < 2 * total; i++) plans.push(await approvedPlan(i));

  const client = new Client({ name: "gimo-bench", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  const restMs: number[] = [];
  const mcpMs: number[] = [];
  for (let i = 0; i < total; i++) {
    let t = performance.now();
    const r = await rest("POST", "/ops/runs", { approved_id: plans[2 * i] });
    const restTime = performance.now() - t;
    if (r.status !== 201) throw new Error(`POST /ops/runs answered ${r.status}`);
    t = performance.now();
    const m = await client.callTool({ name: "create_run", arguments: { approved_id: plans[2 * i + 1] } });
    const mcpTime = performance.now() - t;
    if (m.isError) throw new Error(`create_run failed: ${JSON.stringify(m.content)}`);
    if (i >= warmup) {
      restMs.push(restTime);
      mcpMs.push(mcpTime);
    }
  }
  await client.close();

  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    };
  };
  const r = stats(restMs);
  const m = stats(mcpMs);
  const row = (name: string, s: typeof r) =>
    `${name.padEnd(34)}${s.p50.toFixed(2).padStart(8)}${s.p99.toFixed(2).padStart(9)}${s.mean.toFixed(2).padStart(9)}\n`;
  process.stdout.write(`\n${calls} calls each, SQLite, one at a time\n`);
  process.stdout.write(
    `${"call".padEnd(34)}${"p50 ms".padStart(8)}${"p99 ms".padStart(9)}${"mean ms".padStart(9)}\n`,
  );
  process.stdout.write(row("REST POST /ops/runs (baseline)", r));
  process.stdout.write(row("MCP tools/call create_run (HTTP)", m));
  process.stdout.write(
    `MCP / REST: p50 ${(m.p50 / r.p50).toFixed(2)}×, p99 ${(m.p99 / r.p99).toFixed(2)}×, mean ${(m.mean / r.mean).toFixed(2)}× (+${(m.p50 - r.p50).toFixed(2)} ms at p50)\n`,
  );
} finally {
  child.send("stop");
  await new Promise((resolve) => child.once("exit", resolve));
  rmSync(root, { recursive: true, force: true });
}
