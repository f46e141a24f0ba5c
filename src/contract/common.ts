import { z } from "@hono/zod-openapi";
import { type EntityKind, idPattern, idPrefix } from "../core/ids.ts";

/** Shapes shared by every part of the contract. */

export const Timestamp = z.string().openapi({ format: "date-time", example: "2026-11-22T10:00:00.000Z" });

export function IdOf(kind: EntityKind) {
  return z
    .string()
    .regex(idPattern(kind), `must be a ${kind} id (${idPrefix[kind]}_<ulid>)`)
    .openapi({ example: `${idPrefix[kind]}_01JD0000000000000000000000` });
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "not_found" }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const Limit = z.coerce.number().int().min(1).max(200).default(50);
export const Cursor = z
  .string()
  .max(200)
  .optional()
  .openapi({ description: "next_cursor of the previous page" });

export const PageQuery = z.object({ limit: Limit, cursor: Cursor });

export function PageOf<T extends z.ZodType>(item: T, name: string) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() }).openapi(name);
}

function isControl(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f;
}

/** A short, printable, single-line text (names, titles, reasons). */
export function Line(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => ![...s].some(isControl), "must not contain control characters");
}

/** Free text (prompts, markdown): any unicode but NUL, bounded. */
export function Text(max: number) {
  return z
    .string()
    .max(max)
    .refine((s) => !s.includes("\u0000"), "must not contain NUL characters");
}
