import type { Context } from "hono";
import type { Role } from "../../core/roles.ts";
import { encodeCursor, type Page } from "../../store/pagination.ts";
import type { HttpEnv } from "./env.ts";

/**
 * ChatGPT Actions refuse responses over 100,000 characters. For the `actions` role a page is cut
 * to fit (under 90,000, leaving room for the envelope), and `next_cursor` points at the first item
 * left out, so nothing is lost — the client just pages more.
 */
const ACTIONS_MAX_CHARS = 90_000;

export function fitPage<T extends { id?: string; seq?: number }>(page: Page<T>, role: Role): Page<T> {
  if (role !== "actions") return page;
  let size = 40;
  for (let i = 0; i < page.items.length; i++) {
    size += JSON.stringify(page.items[i]).length + 1;
    if (size > ACTIONS_MAX_CHARS && i > 0) {
      const last = page.items[i - 1] as T;
      return {
        items: page.items.slice(0, i),
        next_cursor: encodeCursor((last.id ?? last.seq) as string | number),
      };
    }
  }
  return page;
}

export function pageFor<T extends { id?: string; seq?: number }>(
  c: Context<HttpEnv>,
  page: Page<T>,
): Page<T> {
  return fitPage(page, c.get("principal").role);
}
