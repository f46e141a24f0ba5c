import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";

/**
 * Content hashes: `sha256:<hex>` of canonical JSON — the form of every hash GIMO records (approved
 * plans, prompts, audit events). Kept apart from canonical-json.ts, which imports nothing, so the
 * web UI computes the same canonical text in the browser (with WebCrypto for the digest).
 */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** `sha256:<hex>` of the canonical JSON of `value` — the form of every content hash GIMO shows. */
export function contentHash(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}
