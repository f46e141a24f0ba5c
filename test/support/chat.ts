import { DEMO_PLAN, demoModel } from "../../src/demo/model-script.ts";
import { embeddedExecutorDeps } from "../../src/embedded/executor-deps.ts";
import type { ScriptedReply } from "../../src/llm/scripted-replies.ts";
import { type ScriptedModel, startScriptedModel } from "../../src/llm/scripted-server.ts";
import { createExecutor } from "../../src/runner/executor.ts";
import type { StorageKind } from "../../src/store/database.ts";
import { pushCalcRepo } from "./calc-repo.ts";
import { startGimo, type TestGimo } from "./harness.ts";

/**
 * A GIMO for the chat and Telegram suites: the real executor in the embedded runner (real git, a
 * bare remote, bubblewrap) and one scripted model server behind both roles. A request that offers
 * the chat's `propose_plan` tool is the chat planner: it takes the next reply from `chatReplies`
 * (a test pushes what the planner says); every other request is the executor, answered by the
 * demo script (read calc.js, fix add, run the tests, finish).
 */
export interface ChatGimo {
  g: TestGimo;
  model: ScriptedModel;
  chatReplies: ScriptedReply[];
  close(): Promise<void>;
}

export const LINK_BASE = "https://git.example.com/calc/tree/";

export async function startChatGimo(
  kind: StorageKind,
  extra: { env?: Record<string, string>; executorDelayMs?: number } = {},
): Promise<ChatGimo> {
  const chatReplies: ScriptedReply[] = [];
  const model = await startScriptedModel({
    respond: (req) => {
      const tools = (req.body.tools ?? []) as { function?: { name?: string } }[];
      if (tools.some((t) => t.function?.name === "propose_plan")) {
        return chatReplies.shift() ?? { text: "(the test scripted no reply)" };
      }
      const reply = demoModel(req);
      return extra.executorDelayMs ? { ...reply, delayMs: extra.executorDelayMs } : reply;
    },
  });
  const g = await startGimo(
    kind,
    { sandbox: "on", leaseSeconds: 10 },
    {
      ...(extra.env ? { env: extra.env } : {}),
      runHandler: (services) => createExecutor(embeddedExecutorDeps(services, () => {})),
    },
  );
  await pushCalcRepo(g);
  const provider = { type: "openai_compat", base_url: model.url, model: "scripted" };
  const put = await g.request("PUT", "/ops/provider", { body: { planner: provider, executor: provider } });
  if (put.status !== 200) throw new Error(put.text);
  const patch = await g.request("PATCH", `/ops/projects/${g.projectId}`, {
    body: { test_command: "node calc.test.js", link_template: `${LINK_BASE}{branch}` },
  });
  if (patch.status !== 200) throw new Error(patch.text);
  return {
    g,
    model,
    chatReplies,
    close: async () => {
      await g.close();
      await model.close();
    },
  };
}

/** The planner proposing `plan` (default: the demo's) by tool call, then saying one sentence. */
export function proposes(plan: unknown = DEMO_PLAN, prompt = "Fix add() in calc.js"): ScriptedReply[] {
  return [
    { toolCalls: [{ name: "propose_plan", args: { prompt, plan } }] },
    { text: "I proposed a plan: confirm to run it, or cancel." },
  ];
}
