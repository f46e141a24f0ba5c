/**
 * Telegram's text rules: messages are sent with `parse_mode: "HTML"`, so every piece of text that
 * did not come from this file goes through `escapeHtml` (only `&`, `<` and `>` are special there).
 * A message holds at most 4,096 characters after entities are parsed; longer texts are split on
 * line boundaries (a line longer than a chunk is cut), and texts too long to read in a chat are
 * sent as a file instead (`asDocument`).
 */
export const MESSAGE_LIMIT = 4_096;
/** Room for the markup a chunk's escaping adds. */
const CHUNK = 3_500;
/** Above this many characters a text becomes a file. */
export const DOCUMENT_THRESHOLD = 12_000;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Plain text → HTML chunks, each at most CHUNK characters once escaped (never cutting an entity). */
export function chunks(text: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    const pieces: string[] = [];
    let piece = "";
    for (const ch of line) {
      const escaped = escapeHtml(ch);
      if (piece.length + escaped.length > CHUNK) {
        pieces.push(piece);
        piece = "";
      }
      piece += escaped;
    }
    pieces.push(piece);
    for (const p of pieces) {
      if (current && current.length + p.length + 1 > CHUNK) {
        out.push(current);
        current = "";
      }
      current = current ? `${current}\n${p}` : p;
    }
  }
  if (current) out.push(current);
  return out.length > 0 ? out : [""];
}

export function asDocument(text: string): boolean {
  return text.length > DOCUMENT_THRESHOLD;
}

/** A run's status in a message: a success nothing checked says so. */
export function runStatus(run: { status: string; result: { verified?: boolean } | null }): string {
  return run.status === "succeeded" && run.result?.verified === false ? "succeeded (unverified)" : run.status;
}
