import { describe, expect, it } from "vitest";
import { parseAllowedUsers, telegramConfigFrom } from "./config.ts";
import { chunks, escapeHtml, MESSAGE_LIMIT } from "./format.ts";

describe("telegram text", () => {
  it("escapes the three characters HTML mode parses", () => {
    expect(escapeHtml(`<b>a & b</b> "q" 'x'`)).toBe(`&lt;b&gt;a &amp; b&lt;/b&gt; "q" 'x'`);
  });

  it("splits long texts on lines, each chunk within the limit once escaped, never inside an entity", () => {
    const text = Array.from({ length: 400 }, (_, i) => `line ${i} & <more>`).join("\n");
    const parts = chunks(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(p).not.toMatch(/&[a-z]*$/);
    }
    const unescaped = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    expect(parts.map(unescaped).join("\n")).toBe(text);
  });

  it("cuts a single line longer than a message, entities intact", () => {
    const parts = chunks("&".repeat(10_000));
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(p).toMatch(/^(&amp;)+$/);
    }
    expect(parts.join("").length).toBe(50_000);
  });
});

describe("telegram configuration", () => {
  it("parses allowed users and refuses malformed entries and the runner role", () => {
    expect([...parseAllowedUsers("1:operator, 22:actions,333:admin")]).toEqual([
      [1, "operator"],
      [22, "actions"],
      [333, "admin"],
    ]);
    expect(() => parseAllowedUsers("1:runner")).toThrow(/actions, operator or admin/);
    expect(() => parseAllowedUsers("bob:admin")).toThrow(/not <user id>:<role>/);
    expect(() => parseAllowedUsers("1:root")).toThrow();
  });

  it("is off without a token and refuses a malformed token or API root", () => {
    expect(telegramConfigFrom({})).toBeUndefined();
    expect(() => telegramConfigFrom({ TELEGRAM_BOT_TOKEN: "nope" })).toThrow(/bot token/);
    const token = "123:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi";
    expect(() => telegramConfigFrom({ TELEGRAM_BOT_TOKEN: token, TELEGRAM_API_ROOT: "file:///etc" })).toThrow(
      /http/,
    );
    expect(telegramConfigFrom({ TELEGRAM_BOT_TOKEN: token })?.apiRoot).toBe("https://api.telegram.org");
  });
});
