import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../contract/chat.ts";
import { historyFor, renderPlan } from "./chat-conversation.ts";

const message = (
  i: number,
  text: string,
  role: ChatMessage["role"] = i % 2 ? "assistant" : "user",
): ChatMessage => ({
  id: `m_${String(i).padStart(26, "0")}`,
  chat_id: "c_01JD0000000000000000000000",
  role,
  kind: "text",
  text,
  data: null,
  author: "x",
  created_at: "2026-01-01T00:00:00.000Z",
});

describe("the chat history the planner sees", () => {
  it("keeps a short history whole, in order, with roles", () => {
    const h = historyFor([message(0, "hi"), message(1, "hello"), message(2, "fix it")]);
    expect(h).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "fix it" },
    ]);
  });

  it("keeps the newest messages within the budget and summarises the older ones in one note", () => {
    const long = "x".repeat(5_000);
    const msgs = Array.from({ length: 20 }, (_, i) => message(i, `message ${i}\n${long}`));
    const h = historyFor(msgs);
    const total = h.reduce((n, m) => n + m.content.length, 0);
    expect(total).toBeLessThan(6_000 * 4 + 2_000);
    expect(h[0]?.content).toMatch(/^\(Summary of the \d+ earlier messages of this chat\)/);
    expect(h[0]?.content).toContain("message 0");
    expect(h.at(-1)?.content).toContain("message 19");
    expect(h.slice(1).every((m) => !m.content.startsWith("(Summary"))).toBe(true);
  });

  it("clips a single message longer than the whole budget, keeping its end", () => {
    const h = historyFor([message(0, `start ${"y".repeat(40_000)} end`)]);
    expect(h).toHaveLength(1);
    expect(h[0]?.content.length).toBeLessThanOrEqual(6_000 * 4 + 1);
    expect(h[0]?.content.endsWith("end")).toBe(true);
  });

  it("marks non-text messages (plans, answers, run news) for the model", () => {
    const plan = { ...message(1, "Plan (revision 1): x"), kind: "plan" as const };
    expect(historyFor([plan])[0]).toEqual({ role: "assistant", content: "[plan] Plan (revision 1): x" });
  });
});

describe("a plan as text", () => {
  it("lists the title, summary, steps, acceptance and risk", () => {
    const text = renderPlan(
      {
        title: "T",
        summary: "S",
        steps: [{ id: "s1", kind: "agent", title: "Do" }],
        acceptance: ["A"],
        risk: "low",
      },
      2,
    );
    expect(text).toBe("Plan (revision 2): T\nS\n1. [agent] Do\nAcceptance: A\nRisk: low");
  });
});
