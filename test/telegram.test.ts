import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PLAN } from "../src/demo/model-script.ts";
import { parseAllowedUsers, type TelegramConfig } from "../src/operators/telegram/config.ts";
import { startTelegram, type TelegramRuntime } from "../src/operators/telegram/poller.ts";
import { type ChatGimo, LINK_BASE, startChatGimo } from "./support/chat.ts";
import { storageKinds } from "./support/databases.ts";
import { type FakeBotApi, type RecordedCall, startFakeBotApi } from "./support/fake-bot-api.ts";
import { eventually } from "./support/runs.ts";

/**
 * The Telegram operator against a fake Bot API server over real HTTP (TELEGRAM_API_ROOT): grammY
 * in GIMO polls it, users' updates drive the same services as every channel, and the real executor
 * runs what a button approved.
 */
const OPERATOR = { id: 100, username: "olga" };
const ACTIONS = { id: 200, username: "andy" };
const STRANGER = { id: 666, username: "mallory" };
const ADMIN = { id: 300, username: "ada" };

describe.each(storageKinds())("telegram on %s", (kind) => {
  let c: ChatGimo;
  let api: FakeBotApi;
  let tg: TelegramRuntime;
  let config: TelegramConfig;
  beforeAll(async () => {
    c = await startChatGimo(kind);
    api = await startFakeBotApi();
    config = {
      token: api.token,
      apiRoot: api.url,
      allowed: parseAllowedUsers(`${OPERATOR.id}:operator,${ACTIONS.id}:actions,${ADMIN.id}:admin`),
      pollSeconds: 1,
    };
    tg = await startTelegram(c.g.gimo.services, config, c.g.gimo.logger);
  }, 60_000);
  afterAll(async () => {
    await tg?.stop();
    await api?.close();
    await c?.close();
  });

  const texts = (chatId: number) =>
    api.sent(chatId).map((m) => String(m.params.text ?? m.params.caption ?? ""));
  const waitSent = (chatId: number, test: (m: RecordedCall) => boolean, timeoutMs = 20_000) =>
    eventually(async () => api.sent(chatId).find(test), timeoutMs, 25);
  const keyboardOf = (m: RecordedCall) =>
    (
      (m.params.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] })
        ?.inline_keyboard ?? []
    ).flat();
  const planMessage = async (chatId: number, after = 0) => {
    const m = await waitSent(chatId, (x) => x.at >= after && keyboardOf(x).length === 4);
    const draftId = keyboardOf(m)[0]?.callback_data.slice(2) ?? "";
    return { m, draftId };
  };
  const callbackAnswers = () =>
    api.calls.filter((x) => x.method === "answerCallbackQuery" && x.status === 200);

  it("refuses a user who is not allowed, politely, with an audit event, and does nothing", async () => {
    api.sendText(STRANGER, STRANGER.id, "/task delete everything");
    const refusal = await waitSent(STRANGER.id, () => true);
    expect(String(refusal.params.text)).toContain("only works for people its administrator has allowed");
    expect(String(refusal.params.text)).toContain(String(STRANGER.id));
    const audit = await c.g.request("GET", "/ops/audit?limit=50");
    const refused = audit.body.items.find((e: { type: string }) => e.type === "telegram.refused");
    expect(refused?.data).toMatchObject({ user_id: STRANGER.id, username: "mallory", update: "message" });
    const tasks = await c.g.request("GET", "/ops/tasks?limit=200");
    expect(JSON.stringify(tasks.body)).not.toContain("delete everything");
    // the event is audit-only: the actions role's streams do not carry it
    const asActions = await c.g.request("GET", "/ops/audit?limit=5", { role: "actions" });
    expect(asActions.status).toBe(403);
  });

  it("/task → plan with buttons → Approve & run → one run → the outcome with the link; a double press acts once", async () => {
    const sentAt = Date.now();
    api.sendText(OPERATOR, OPERATOR.id, "/task fix add() in calc.js");
    const { m, draftId } = await planMessage(OPERATOR.id, sentAt);
    expect(m.params.parse_mode).toBe("HTML");
    expect(String(m.params.text)).toContain(DEMO_PLAN.title.replace(/&/g, "&amp;").replace(/</g, "&lt;"));
    expect(keyboardOf(m).map((b) => b.text)).toEqual(["Approve", "Approve & run", "Reject", "Revise"]);
    const draft = await c.g.request("GET", `/ops/drafts/${draftId}`);
    expect(draft.body.status).toBe("draft");
    expect(draft.body.created_by).toBe(`telegram:${OPERATOR.id}`);

    const before = callbackAnswers().length;
    api.press(OPERATOR, OPERATOR.id, `r:${draftId}`);
    api.press(OPERATOR, OPERATOR.id, `r:${draftId}`);
    api.press(OPERATOR, OPERATOR.id, `a:${draftId}`);
    await eventually(async () => callbackAnswers().length >= before + 3, 20_000, 25);
    const answers = callbackAnswers()
      .slice(before)
      .map((x) => String(x.params.text));
    expect(answers.filter((t) => t === "approved")).toHaveLength(1);
    const task = await c.g.request("GET", `/ops/tasks/${draft.body.task_id}`);
    expect(task.body.approved).toHaveLength(1);
    expect(task.body.approved[0].approved_by).toBe(`telegram:${OPERATOR.id}`);
    expect(task.body.runs).toHaveLength(1);

    const outcome = await waitSent(
      OPERATOR.id,
      (x) => String(x.params.text).includes("succeeded") || String(x.params.text).includes("failed:"),
      90_000,
    );
    expect(String(outcome.params.text)).toContain(`Link: ${LINK_BASE}task/${draft.body.task_id}`);
    expect(String(outcome.params.text)).toContain("calc.js");
    expect(String(outcome.params.text)).toContain("Verified: the tests pass and every acceptance criterion");
    expect(texts(OPERATOR.id).some((t) => t.startsWith(`Run ${task.body.runs[0].id} started`))).toBe(true);
    // pressing again after the run ended is still answered, not acted on
    api.press(OPERATOR, OPERATOR.id, `r:${draftId}`);
    await eventually(async () => callbackAnswers().length >= before + 4, 20_000, 25);
    expect(callbackAnswers().at(-1)?.params.text).toBe("already approved");
    expect((await c.g.request("GET", `/ops/tasks/${draft.body.task_id}`)).body.runs).toHaveLength(1);
  }, 120_000);

  it("an actions-mapped user's Approve is refused; Revise asks for feedback and makes the next revision; Reject cancels", async () => {
    const group = -5000;
    const t0 = Date.now();
    api.sendText(OPERATOR, group, "/task fix add() again");
    const { draftId } = await planMessage(group, t0);
    const before = callbackAnswers().length;
    api.press(ACTIONS, group, `r:${draftId}`);
    await eventually(async () => callbackAnswers().length > before, 20_000, 25);
    expect(callbackAnswers().at(-1)?.params.text).toBe("not allowed");
    expect((await c.g.request("GET", `/ops/drafts/${draftId}`)).body.status).toBe("draft");
    api.sendText(ACTIONS, group, "/task sneak one in");
    await waitSent(group, (x) => String(x.params.text).includes("may not create tasks"));

    const t1 = Date.now();
    api.press(OPERATOR, group, `v:${draftId}`);
    await waitSent(group, (x) => x.at >= t1 && String(x.params.text).includes("Send your feedback"));
    api.sendText(OPERATOR, group, "also keep multiply() untouched");
    const second = await planMessage(group, t1);
    expect(second.draftId).not.toBe(draftId);
    const rev = await c.g.request("GET", `/ops/drafts/${second.draftId}`);
    expect(rev.body.rev).toBe(2);
    expect((await c.g.request("GET", `/ops/drafts/${draftId}`)).body.status).toBe("superseded");
    expect(JSON.stringify(c.model.requests.at(-1)?.body.messages)).toContain(
      "also keep multiply() untouched",
    );
    // a button of the superseded revision is answered, not acted on
    const b2 = callbackAnswers().length;
    api.press(OPERATOR, group, `r:${draftId}`);
    await eventually(async () => callbackAnswers().length > b2, 20_000, 25);
    expect(callbackAnswers().at(-1)?.params.text).toBe("superseded");
    api.press(OPERATOR, group, `x:${second.draftId}`);
    await eventually(async () => callbackAnswers().length > b2 + 1, 20_000, 25);
    expect(callbackAnswers().at(-1)?.params.text).toBe("cancelled");
    expect(rev.body.task_id).toBeDefined();
    const task = await c.g.request("GET", `/ops/tasks/${rev.body.task_id}`);
    expect(task.body.approved).toHaveLength(0);
  }, 60_000);

  it("buttons obey require_distinct_approver: the author's press is refused, another approver's acts", async () => {
    const plan = await c.g.request("GET", "/ops/plan");
    await c.g.request("PUT", "/ops/plan", {
      headers: { "if-match": String(plan.body.version) },
      body: { ...plan.body.doc, require_distinct_approver: true },
    });
    try {
      const group = -6000;
      const t0 = Date.now();
      api.sendText(OPERATOR, group, "/task fix add() once more");
      const { draftId } = await planMessage(group, t0);
      const before = callbackAnswers().length;
      api.press(OPERATOR, group, `a:${draftId}`);
      await eventually(async () => callbackAnswers().length > before, 20_000, 25);
      expect(callbackAnswers().at(-1)?.params.text).toBe("distinct approver required");
      expect((await c.g.request("GET", `/ops/drafts/${draftId}`)).body.status).toBe("draft");
      api.press(ADMIN, group, `a:${draftId}`);
      await eventually(async () => callbackAnswers().length > before + 1, 20_000, 25);
      expect(callbackAnswers().at(-1)?.params.text).toBe("approved");
      const approved = await c.g.request("GET", `/ops/drafts/${draftId}`);
      expect(approved.body.status).toBe("approved");
    } finally {
      const now = await c.g.request("GET", "/ops/plan");
      await c.g.request("PUT", "/ops/plan", {
        headers: { "if-match": String(now.body.version) },
        body: { ...now.body.doc, require_distinct_approver: false },
      });
    }
  });

  it("free text goes to the chat planner; HTML is escaped; long answers are split or attached", async () => {
    const chat = 4242;
    c.chatReplies.push({ text: 'Use <script> & "quotes" — fine' });
    const t0 = Date.now();
    api.sendText(OPERATOR, chat, "how do I break HTML?");
    const m = await waitSent(chat, (x) => x.at >= t0);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      api.sent(chat),
      JSON.stringify(
        api.calls.filter((x) => x.at >= t0).map((x) => [x.method, x.at, x.params.text ?? x.params.offset]),
      ),
    ).toHaveLength(1);
    expect(m.params.text).toBe('Use &lt;script&gt; &amp; "quotes" — fine');
    const line = "0123456789".repeat(9);
    c.chatReplies.push({ text: Array.from({ length: 100 }, () => line).join("\n") }); // ≈9,100 chars
    const t1 = Date.now();
    api.sendText(OPERATOR, chat, "long please");
    await eventually(async () => api.sent(chat).filter((x) => x.at >= t1).length >= 3, 20_000, 25);
    const parts = api.sent(chat).filter((x) => x.at >= t1);
    for (const p of parts) expect(String(p.params.text).length).toBeLessThanOrEqual(4096);
    expect(parts.map((p) => String(p.params.text)).join("\n")).toBe(
      Array.from({ length: 100 }, () => line).join("\n"),
    );
    c.chatReplies.push({ text: "y".repeat(20_000) });
    const t2 = Date.now();
    api.sendText(OPERATOR, chat, "longer");
    const doc = await waitSent(chat, (x) => x.at >= t2 && x.method === "sendDocument");
    expect((doc.params.document as { text: string }).text).toBe("y".repeat(20_000));
  });

  it("a 429 from the Bot API is waited out (retry_after), and the message still arrives once", async () => {
    api.rateLimit("sendMessage", 1);
    const t0 = Date.now();
    api.sendText(OPERATOR, 777, "/help");
    await waitSent(777, (x) => String(x.params.text).includes("/task"), 20_000);
    const tries = api.calls.filter(
      (x) => x.method === "sendMessage" && Number(x.params.chat_id) === 777 && x.at >= t0,
    );
    expect(tries.map((x) => x.status)).toEqual([429, 200]);
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("one process polls at a time: a second one waits on the lease and takes over when the first stops", async () => {
    const second = await startTelegram(c.g.gimo.services, config, c.g.gimo.logger, { leaseMs: 3_000 });
    try {
      const handledBefore = tg.handled();
      for (let i = 0; i < 3; i++) api.sendText(OPERATOR, 999, "/help");
      await eventually(
        async () => api.sent(999).length >= 3 && tg.handled() - handledBefore >= 3,
        20_000,
        25,
      );
      expect(second.handled()).toBe(0);
      await tg.stop(); // releases the lease
      api.sendText(OPERATOR, 999, "/help");
      await eventually(async () => api.sent(999).length >= 4 && second.handled() === 1, 20_000, 25);
    } finally {
      await second.stop();
      tg = await startTelegram(c.g.gimo.services, config, c.g.gimo.logger);
    }
  }, 40_000);

  it("the bot token appears in no log line and no event", async () => {
    expect(c.g.logs.join("\n")).not.toContain(api.token);
    const audit = await c.g.request("GET", "/ops/audit?limit=200");
    expect(JSON.stringify(audit.body)).not.toContain(api.token);
  });

  it("a restart does not replay handled updates", async () => {
    api.sendText(OPERATOR, 888, "/help");
    await waitSent(888, () => true);
    await tg.stop();
    api.sendText(OPERATOR, 888, "/runs");
    tg = await startTelegram(c.g.gimo.services, config, c.g.gimo.logger);
    await waitSent(888, (x) => String(x.params.text).includes("runs"));
    await new Promise((r) => setTimeout(r, 1_500));
    const sent = texts(888);
    expect(sent.filter((t) => t.includes("/abort"))).toHaveLength(1); // /help answered once
    expect(sent).toHaveLength(2);
  }, 30_000);
});
