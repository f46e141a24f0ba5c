/**
 * The real agent CLIs against GIMO's own agent loop, on the same sample fix and the same scripted
 * model: wall time of the whole run (claim to `succeeded`: worktree, sandbox, the agent, the tests,
 * commit and push) and what the model was sent.
 *
 *   npm run bench:agent-cli -- [--n 1] [--only claude,codex]
 *
 * Each executor gets its own GIMO (SQLite, the embedded runner, the bubblewrap sandbox, a bare
 * remote; test/support/agent-cli.ts) and fixes calc.js N times (a fresh task each time). Baseline:
 * GIMO's own agent loop (openai_compat, the demo's script: read, edit, run the tests, finish). The
 * CLIs follow the script of their suites. Every reply, the baseline's too, reports as usage a
 * quarter of the characters of the whole request body (system prompt and tool schemas included)
 * and of its own answer, so the tokens a run records compare like for like whatever the API.
 * Columns: median wall seconds, model requests per run, KB of request bodies per run, the tokens
 * the run's result records (what the CLI reported), and each against the baseline.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { ScriptedReply } from "../../src/llm/scripted-replies.ts";
import type { ReceivedRequest } from "../../src/llm/scripted-server.ts";
import { type AgentCliKind, agentCliKinds } from "../../src/runner/agent-cli/adapter.ts";
import { cliBinary, fixScript, startCliSuite } from "../../test/support/agent-cli.ts";

const { values } = parseArgs({
  options: { n: { type: "string", default: "1" }, only: { type: "string" } },
});
const n = Math.max(1, Number(values.n));
const only = values.only?.split(",") ?? [...agentCliKinds];

interface Row {
  name: string;
  wallS: number;
  requests: number;
  kb: number;
  tokensIn: number;
  tokensOut: number;
  note?: string;
}

/** The reply with usage measured from the request body and the reply itself. */
function measured(req: ReceivedRequest, reply: ScriptedReply): ScriptedReply {
  const answer = JSON.stringify([reply.text ?? "", reply.json ?? "", reply.toolCalls ?? []]);
  return {
    ...reply,
    usage: {
      prompt_tokens: Math.ceil(JSON.stringify(req.body).length / 4),
      completion_tokens: Math.max(1, Math.ceil(answer.length / 4)),
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function measure(kind: AgentCliKind | "gimo"): Promise<Row> {
  const binary = kind === "gimo" ? "" : cliBinary(kind);
  if (binary === undefined)
    return { name: kind, wallS: 0, requests: 0, kb: 0, tokensIn: 0, tokensOut: 0, note: "not installed" };
  const suite = await startCliSuite(kind, binary);
  const script = kind === "gimo" ? suite.respond : fixScript(kind);
  suite.respond = async (req) => measured(req, await script(req));
  const walls: number[] = [];
  const requests: number[] = [];
  const bytes: number[] = [];
  const ins: number[] = [];
  const outs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const before = suite.model.requests.length;
      const started = performance.now();
      const run = await suite.runPlan();
      const wall = (performance.now() - started) / 1000;
      if (run.status !== "succeeded")
        throw new Error(`${kind}: run ${run.status}: ${JSON.stringify(run.error)}`);
      const seen = suite.model.requests.slice(before);
      walls.push(wall);
      requests.push(seen.length);
      bytes.push(seen.reduce((sum, r) => sum + JSON.stringify(r.body).length, 0));
      ins.push(run.result.usage.input_tokens);
      outs.push(run.result.usage.output_tokens);
    }
  } finally {
    await suite.close();
  }
  return {
    name: kind === "gimo" ? "GIMO's own agent (baseline)" : kind,
    wallS: median(walls),
    requests: median(requests),
    kb: median(bytes) / 1024,
    tokensIn: median(ins),
    tokensOut: median(outs),
  };
}

const base = await measure("gimo");
const rows = [base];
for (const kind of agentCliKinds.filter((k) => only.includes(k))) {
  try {
    rows.push(await measure(kind));
  } catch (error) {
    rows.push({
      name: kind,
      wallS: 0,
      requests: 0,
      kb: 0,
      tokensIn: 0,
      tokensOut: 0,
      note: String(error).slice(0, 200),
    });
  }
}

const ratio = (x: number, b: number) => (b > 0 && x > 0 ? `${(x / b).toFixed(1)}×` : "—");
console.log(
  `agent CLIs vs GIMO's own agent: the sample fix, ${n} run(s) each, load ${loadavg()[0]?.toFixed(1)}`,
);
console.log(
  [
    "executor".padEnd(30),
    "wall s",
    "× base",
    "reqs",
    "req KB",
    "× base",
    "tokens in",
    "out",
    "× base (in+out)",
  ].join("  "),
);
for (const r of rows) {
  if (r.note) {
    console.log(`${r.name.padEnd(30)}  ${r.note}`);
    continue;
  }
  console.log(
    [
      r.name.padEnd(30),
      r.wallS.toFixed(1).padStart(6),
      ratio(r.wallS, base.wallS).padStart(6),
      String(r.requests).padStart(4),
      r.kb.toFixed(0).padStart(6),
      ratio(r.kb, base.kb).padStart(6),
      String(r.tokensIn).padStart(9),
      String(r.tokensOut).padStart(4),
      ratio(r.tokensIn + r.tokensOut, base.tokensIn + base.tokensOut).padStart(8),
    ].join("  "),
  );
}
