/**
 * The content hash GIMO records at approval — `sha256:` of the plan's canonical JSON (keys sorted,
 * no whitespace; the server's src/core/canonical-json.ts) — computed in the browser, so the approve
 * dialog shows the hash of exactly what is on screen and sends it with the approval: the server
 * refuses (409) when the draft no longer hashes to it. (The server's module hashes with node:crypto,
 * which a browser has not; test/web-content-hash.test.ts keeps the two equal.)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    return text === undefined ? "null" : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export async function contentHash(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson(value));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
