import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PLAN } from "../src/demo/model-script.ts";
import { type ChatGimo, LINK_BASE, proposes, startChatGimo } from "./support/chat.ts";
import { storageKinds } from "./support/databases.ts";
import { eventually } from "./support/runs.ts";

/**
 * The chat channel over real HTTP on both databases: the planner (a scripted model behind the real
 * openai_compat adapter) proposes plans by tool call, confirm goes through the approval gate, and
 * the real executor's run reports its progress and link back into the chat.
 */
describe.each(storageKinds())("chat on %s", (kind) => {
  let c: ChatGimo;
  beforeAll(async () => {
    c = await startChatGimo(kind);
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  // biome-ignore lint/suspicious/noExplicitAny: JSON answers
  type Msg = any;
  const newChat = async (title = "work") => {
    const res = await c.g.request("POST", "/ops/chats", { role: "operator", body: { title } });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  const say = (chatId: string, text: string, role: "operator" | "admin" = "operator") =>
    c.g.request("POST", `/ops/chats/${chatId}/messages`, { role, body: { text } });
  const messages = async (chatId: string): Promise<Msg[]> =>
    (await c.g.request("GET", `/ops/chats/${chatId}/messages?limit=200`)).body.items;
  const propose = async (chatId: string, plan: unknown = DEMO_PLAN) => {
    c.chatReplies.push(...proposes(plan));
    const res = await say(chatId, "add() is broken, please fix it");
    expect(res.status, res.text).toBe(201);
    const planMsg = res.body.messages.find((m: Msg) => m.kind === "plan");
    expect(planMsg, JSON.stringify(res.body)).toBeDefined();
    return planMsg.data as { draft_id: string; task_id: string; rev: number };
  };

  it("creates, lists, renames and archives chats; pages messages by keyset", async () => {
    const id = await newChat("first");
    const list = await c.g.request("GET", "/ops/chats?limit=50", { role: "actions" });
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: Msg) => x.id)).toContain(id);
    const renamed = await c.g.request("PATCH", `/ops/chats/${id}`, {
      role: "operator",
      body: { title: "renamed" },
    });
    expect(renamed.body.title).toBe("renamed");
    for (let i = 0; i < 3; i++) {
      c.chatReplies.push({ text: `answer ${i}` });
      expect((await say(id, `question ${i}`)).status).toBe(201);
    }
    const p1 = await c.g.request("GET", `/ops/chats/${id}/messages?limit=4`);
    expect(p1.body.items.map((m: Msg) => m.text)).toEqual([
      "question 0",
      "answer 0",
      "question 1",
      "answer 1",
    ]);
    const p2 = await c.g.request("GET", `/ops/chats/${id}/messages?limit=4&cursor=${p1.body.next_cursor}`);
    expect(p2.body.items.map((m: Msg) => m.text)).toEqual(["question 2", "answer 2"]);
    expect(p2.body.next_cursor).toBeNull();
    // the model saw the whole history, oldest first, with the chat's tools
    const last = c.model.requests.at(-1)?.body;
    expect(JSON.stringify(last?.messages)).toContain("question 0");
    const tools = ((last?.tools ?? []) as { function: { name: string } }[])
      .map((t) => t.function.name)
      .sort();
    expect(tools).toEqual([
      "get_run_logs",
      "get_run_status",
      "list_tasks",
      "propose_plan",
      "search_repository",
    ]);
    const archived = await c.g.request("PATCH", `/ops/chats/${id}`, {
      role: "operator",
      body: { archived: true },
    });
    expect(archived.body.archived).toBe(true);
    const live = await c.g.request("GET", "/ops/chats?limit=200");
    expect(live.body.items.map((x: Msg) => x.id)).not.toContain(id);
    const write = await say(id, "still there?");
    expect(write.status).toBe(409);
  });

  it("refuses bad input with 4xx and the actions role with 403", async () => {
    const id = await newChat();
    expect(
      (await c.g.request("POST", `/ops/chats/${id}/messages`, { role: "operator", body: {} })).status,
    ).toBe(400);
    expect((await say(id, "   ")).status).toBe(400);
    expect((await say(id, "x".repeat(9_000))).status).toBe(400);
    expect(
      (
        await c.g.request("POST", `/ops/chats/${id}/messages`, {
          role: "operator",
          rawBody: "{",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(400);
    expect((await c.g.request("GET", "/ops/chats/c_nope/messages")).status).toBe(400);
    expect((await c.g.request("GET", "/ops/chats/c_01JD0000000000000000000000/messages")).status).toBe(404);
    expect((await c.g.request("GET", `/ops/chats/${id}/messages?cursor=@@@`)).status).toBe(400);
    expect((await c.g.request("PATCH", `/ops/chats/${id}`, { role: "operator", body: {} })).status).toBe(400);
    expect(
      (
        await c.g.request("POST", "/ops/chats", {
          role: "operator",
          body: { project: "p_01JD0000000000000000000000" },
        })
      ).status,
    ).toBe(404);
    expect((await say(id, "hello", "operator")).status).toBe(201);
    const asActions = await c.g.request("POST", `/ops/chats/${id}/messages`, {
      role: "actions",
      body: { text: "hi" },
    });
    expect(asActions.status).toBe(403);
    const confirmActions = await c.g.request("POST", `/ops/chats/${id}/confirm`, {
      role: "actions",
      body: {},
    });
    expect(confirmActions.status).toBe(403);
    const badDraft = await c.g.request("POST", `/ops/chats/${id}/confirm`, {
      role: "operator",
      body: { draft_id: "d_01JD0000000000000000000000" },
    });
    expect(badDraft.status).toBe(404);
  });

  it("a plan proposed by tool call is a draft; 20 concurrent confirms approve once and start one run; progress and link are posted", async () => {
    const chatId = await newChat("fix add");
    const proposed = await propose(chatId);
    const draft = await c.g.request("GET", `/ops/drafts/${proposed.draft_id}`);
    expect(draft.body.status).toBe("draft");
    expect(draft.body.plan.title).toBe(DEMO_PLAN.title);
    expect(draft.body.created_by).toBe("env:operator");

    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        c.g.request("POST", `/ops/chats/${chatId}/confirm`, { role: "operator", body: {} }),
      ),
    );
    for (const a of answers) expect(a.status, a.text).toBe(200);
    const outcomes = answers.map((a) => a.body.outcome);
    expect(outcomes.filter((o) => o === "approved")).toHaveLength(1);
    for (const o of outcomes) expect(["approved", "already_approved", "already_running"]).toContain(o);
    const task = await c.g.request("GET", `/ops/tasks/${proposed.task_id}`);
    expect(task.body.approved).toHaveLength(1);
    expect(task.body.runs).toHaveLength(1);
    const runId = task.body.runs[0].id as string;

    // a confirm while the run is active is answered, not executed
    const again = await c.g.request("POST", `/ops/chats/${chatId}/confirm`, { role: "operator", body: {} });
    expect(["already_running", "already_approved"]).toContain(again.body.outcome);

    const result = await eventually(
      async () => (await messages(chatId)).find((m) => m.kind === "result" || m.kind === "error"),
      90_000,
      200,
    );
    expect(result.kind, result.text).toBe("result");
    expect(result.data.link).toBe(`${LINK_BASE}task/${proposed.task_id}`);
    expect(result.text).toContain(`Link: ${LINK_BASE}task/${proposed.task_id}`);
    expect(result.text).toContain("calc.js");
    expect(result.data.files_changed).toEqual(["calc.js"]);
    expect(result.data.verified).toBe(true);
    expect(result.text).toMatch(/Acceptance:\n- ✓ node calc\.test\.js passes — /);
    const all = await messages(chatId);
    const progress = all.filter((m) => m.kind === "progress").map((m) => m.text);
    expect(progress).toContain(`Run ${runId} started (attempt 1).`);
    expect(progress.some((t) => t.startsWith('Step s1 "Fix add()" started'))).toBe(true);
    expect(progress.some((t) => t.startsWith('Step s2 "Run the tests" (tests) finished'))).toBe(true);
    // each event posted once
    const origins = all.filter((m) => m.role === "system").map((m) => m.text);
    expect(new Set(origins).size).toBe(origins.length);
    expect((await c.g.request("GET", `/ops/tasks/${proposed.task_id}`)).body.runs).toHaveLength(1);

    const late = await c.g.request("POST", `/ops/chats/${chatId}/confirm`, { role: "operator", body: {} });
    expect(late.body.outcome).toBe("already_approved");
  }, 120_000);

  it("cancel rejects the pending plan; a second cancel and a confirm find nothing pending", async () => {
    const chatId = await newChat();
    const proposed = await propose(chatId);
    const cancel = await c.g.request("POST", `/ops/chats/${chatId}/cancel`, { role: "operator", body: {} });
    expect(cancel.body.outcome).toBe("cancelled");
    expect((await c.g.request("GET", `/ops/drafts/${proposed.draft_id}`)).body.status).toBe("rejected");
    const twice = await c.g.request("POST", `/ops/chats/${chatId}/cancel`, { role: "operator", body: {} });
    expect(twice.body.outcome).toBe("nothing_pending");
    const confirm = await c.g.request("POST", `/ops/chats/${chatId}/confirm`, { role: "operator", body: {} });
    expect(confirm.body.outcome).toBe("nothing_pending");
    const empty = await newChat();
    const none = await c.g.request("POST", `/ops/chats/${empty}/confirm`, { role: "operator", body: {} });
    expect(none.body.outcome).toBe("nothing_pending");
    expect((await c.g.request("GET", `/ops/tasks/${proposed.task_id}`)).body.approved).toHaveLength(0);
  });

  it("an edit asked in the chat becomes the next revision of the same task; confirming the old one is answered", async () => {
    const chatId = await newChat();
    const first = await propose(chatId);
    const revised = {
      ...DEMO_PLAN,
      steps: [
        DEMO_PLAN.steps[0],
        {
          id: "docs",
          kind: "agent",
          title: "Also update the docs",
          instructions: "Document add() in README.md",
        },
        DEMO_PLAN.steps[1],
      ],
    };
    c.chatReplies.push(...proposes(revised));
    const res = await say(chatId, "make step 2 also update the docs");
    expect(res.status).toBe(201);
    const system = c.model.requests.at(-2)?.body.messages?.[0]?.content;
    expect(String(system)).toContain(first.draft_id); // the pending plan was shown to the model
    const second = res.body.messages.find((m: Msg) => m.kind === "plan").data;
    expect(second.task_id).toBe(first.task_id);
    expect(second.rev).toBe(2);
    expect((await c.g.request("GET", `/ops/drafts/${first.draft_id}`)).body.status).toBe("superseded");
    const old = await c.g.request("POST", `/ops/chats/${chatId}/confirm`, {
      role: "operator",
      body: { draft_id: first.draft_id, run: false },
    });
    expect(old.body.outcome).toBe("superseded");
    const yes = await say(chatId, "yes");
    const answer = yes.body.messages.at(-1);
    expect(answer.kind).toBe("answer");
    expect(answer.data.outcome).toBe("approved");
    expect(answer.data.draft_id).toBe(second.draft_id);
    const task = await c.g.request("GET", `/ops/tasks/${first.task_id}`);
    expect(task.body.approved).toHaveLength(1);
    expect(task.body.approved[0].plan.steps[1].title).toBe("Also update the docs");
    await eventually(
      async () => (await messages(chatId)).find((m) => m.kind === "result" || m.kind === "error"),
      90_000,
      200,
    );
  }, 120_000);

  it("a role that may not approve is answered, and so is the distinct-approver rule", async () => {
    const { services } = c.g.gimo;
    const chatId = await newChat();
    const proposed = await propose(chatId);
    const actions = await services.chatApprovals.confirm(
      { actor: "env:actions", role: "actions", tokenId: null },
      chatId,
      { run: false },
    );
    expect(actions.outcome).toBe("not_allowed");
    const plan = await c.g.request("GET", "/ops/plan");
    const put = await c.g.request("PUT", "/ops/plan", {
      headers: { "if-match": String(plan.body.version) },
      body: { ...plan.body.doc, require_distinct_approver: true },
    });
    expect(put.status, put.text).toBe(200);
    try {
      const self = await c.g.request("POST", `/ops/chats/${chatId}/confirm`, {
        role: "operator",
        body: { run: false },
      });
      expect(self.body.outcome).toBe("distinct_approver_required");
      expect((await c.g.request("GET", `/ops/drafts/${proposed.draft_id}`)).body.status).toBe("draft");
      const other = await c.g.request("POST", `/ops/chats/${chatId}/confirm`, {
        role: "admin",
        body: { run: false },
      });
      expect(other.body.outcome).toBe("approved");
    } finally {
      const now = await c.g.request("GET", "/ops/plan");
      await c.g.request("PUT", "/ops/plan", {
        headers: { "if-match": String(now.body.version) },
        body: { ...now.body.doc, require_distinct_approver: false },
      });
    }
  });

  it("a project that cannot take the run is answered in words, and the plan keeps waiting", async () => {
    const chatId = await newChat();
    const proposed = await propose(chatId);
    const draft = await c.g.request("GET", `/ops/drafts/${proposed.draft_id}`);
    const projectId = draft.body.project_id as string;
    const before = (await c.g.request("GET", `/ops/projects/${projectId}`)).body;
    const patch = await c.g.request("PATCH", `/ops/projects/${projectId}`, {
      role: "admin",
      body: { require_tests: true, test_command: "" },
    });
    expect(patch.status, patch.text).toBe(200);
    try {
      const refused = await c.g.request("POST", `/ops/chats/${chatId}/confirm`, {
        role: "operator",
        body: {},
      });
      expect(refused.status, refused.text).toBe(200);
      expect(refused.body.outcome).toBe("refused");
      expect(refused.body.message.text).toMatch(/requires tests.*test_command/);
      expect((await c.g.request("GET", `/ops/drafts/${proposed.draft_id}`)).body.status).toBe("draft");
    } finally {
      await c.g.request("PATCH", `/ops/projects/${projectId}`, {
        role: "admin",
        body: { require_tests: before.require_tests, test_command: before.test_command ?? "" },
      });
    }
  });

  it("the chat's event stream carries its messages", async () => {
    const chatId = await newChat();
    const ac = new AbortController();
    const res = await fetch(`${c.g.url}/ops/chats/${chatId}/events`, {
      headers: { authorization: `Bearer ${c.g.tokens.actions}` },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    c.chatReplies.push({ text: "pong" });
    await say(chatId, "ping");
    const reader = res.body?.getReader();
    let text = "";
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (text.match(/event: chat.message/g) ?? []).length < 2) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    ac.abort();
    expect((text.match(/event: chat.message/g) ?? []).length).toBe(2);
  });

  it("a planner that cannot be reached is answered with an error message in the chat", async () => {
    const chatId = await newChat();
    c.chatReplies.push({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    const res = await say(chatId, "anything");
    expect(res.status).toBe(201);
    expect(res.body.messages.map((m: Msg) => m.kind)).toEqual(["text", "error"]);
    const last = (await messages(chatId)).at(-1);
    expect(last.kind).toBe("error");
    expect(last.data.code).toBe("unavailable");
    expect(last.text).toContain("could not be reached");
    c.chatReplies.length = 0;
  }, 60_000);
});
