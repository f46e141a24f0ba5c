import { canonicalJson } from "../../../src/core/canonical-json.ts";

/**
 * The content hash GIMO records at approval — `sha256:` of the plan's canonical JSON — computed in
 * the browser, so the approve dialog shows the hash of exactly what is on screen and sends it with
 * the approval: the server refuses (409) when the draft no longer hashes to it. The canonical text
 * is the server's own function (src/core/canonical-json.ts imports nothing); only the digest is
 * WebCrypto's here and node:crypto's there (test/web-content-hash.test.ts keeps the two equal).
 */
export async function contentHash(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson(value));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
