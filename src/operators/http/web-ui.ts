import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import type { HttpEnv } from "./env.ts";

/**
 * The web UI's static files, served by `gimo serve` on the API's own origin.
 *
 * The UI is a single-page app that Vite builds into `web/dist/` (git-ignored; `npm ci` builds it
 * through `prepare`). It is reached only from the app's not-found handler, so no API route can be
 * shadowed by a file: a GET for a path that is not an API path answers
 *
 *   - the file itself when `web/dist/` has it — hashed assets (`/assets/…`) cached for a year as
 *     immutable, anything else revalidated on every load;
 *   - for the client router's own pages (`/`, `/tasks/…`, `/runs/…`, … — `UI_PAGES`), `index.html`
 *     (the SPA fallback), never cached, so a new build is picked up at the next load;
 *   - for anything else the API's JSON 404: a path nobody serves is not the app's page (a
 *     normalised `/ops/x/../../etc/passwd` is `/etc/passwd`, and that is a plain 404).
 *
 * Every HTML answer carries a strict Content-Security-Policy: scripts and connections from this
 * origin only (no inline script, no eval), no framing, no plugins. Styles may be inline: React sets
 * style attributes (virtualised rows) and the dialog primitives add a style element.
 */
export const webDistDir = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

/** Paths the API owns: a miss below them stays a JSON 404, never the UI's index.html. */
const API_PREFIXES = ["/ops", "/health", "/ready", "/status", "/metrics", "/openapi", "/mcp"];

/** The first path segments the web UI's router owns (web/src/app.tsx); keep the two in step. */
const UI_PAGES = new Set(["sign-in", "tasks", "runs", "runners", "audit", "settings", "setup", "chats"]);

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

export function isApiPath(path: string): boolean {
  return API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}.`));
}

/** The UI's answer for a GET/HEAD the API has no route for, or undefined when it is not the UI's. */
export function serveWebUi(c: Context<HttpEnv>, distDir = webDistDir): Response | undefined {
  const method = c.req.method;
  if (method !== "GET" && method !== "HEAD") return undefined;
  const path = c.req.path;
  if (isApiPath(path)) return undefined;
  const index = join(distDir, "index.html");
  if (!existsSync(index)) {
    const text = "The web UI is not built: run `npm run build:web` (npm ci does it), then reload.\n";
    return answer(c, 503, text, headers("text/plain; charset=utf-8", "no-store"));
  }
  const file = staticFile(distDir, path);
  if (file) {
    const immutable = path.startsWith("/assets/");
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    const body = method === "HEAD" ? null : readFileSync(file);
    return answer(
      c,
      200,
      body,
      headers(type, immutable ? "public, max-age=31536000, immutable" : "no-cache"),
    );
  }
  // A missing hashed asset is a real 404 (an old tab after an upgrade), not the app's HTML.
  if (path.startsWith("/assets/") || extname(path) !== "") return undefined;
  if (path !== "/" && !UI_PAGES.has(path.split("/")[1] ?? "")) return undefined;
  const body = method === "HEAD" ? null : readFileSync(index);
  return answer(c, 200, body, headers(TYPES[".html"] as string, "no-store"));
}

/** A regular file inside `distDir` for a URL path; never one outside it. */
function staticFile(distDir: string, urlPath: string): string | undefined {
  if (urlPath === "/" || urlPath.includes("\0")) return undefined;
  const candidate = normalize(join(distDir, urlPath));
  if (!candidate.startsWith(distDir.endsWith(sep) ? distDir : distDir + sep)) return undefined;
  try {
    return statSync(candidate).isFile() ? candidate : undefined;
  } catch {
    return undefined;
  }
}

function answer(
  c: Context<HttpEnv>,
  status: number,
  body: Uint8Array | string | null,
  head: Record<string, string>,
): Response {
  const id = c.get("correlationId");
  return new Response(body as ConstructorParameters<typeof Response>[0], {
    status,
    headers: id ? { ...head, "x-correlation-id": id } : head,
  });
}

function headers(type: string, cache: string): Record<string, string> {
  return {
    "content-type": type,
    "cache-control": cache,
    "content-security-policy": contentSecurityPolicy,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  };
}
