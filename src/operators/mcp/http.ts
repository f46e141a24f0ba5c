import type { Context } from "hono";
import { GimoError } from "../../core/errors.ts";
import type { HttpApp, HttpDeps, HttpEnv } from "../http/env.ts";
import { bearerToken, requireAccess } from "../http/middleware/auth.ts";

/**
 * MCP over Streamable HTTP at `/mcp`, stateless: each POST gets a fresh server whose REST calls go
 * to this app in-process (`app.request`) with the caller's own bearer token and correlation id, so
 * every tool is authorised by the same route middleware as over REST. Before that:
 *  - `Host` and `Origin` are checked against DNS rebinding: a browser tricked into calling a
 *    loopback GIMO from another site names that site in both, and gets 403. Allowed host names are
 *    the loopback ones, `GIMO_HOST` (unless a wildcard) and the host of `GIMO_PUBLIC_URL`; a
 *    request without `Origin` (every non-browser client) is checked on `Host` alone;
 *  - a missing or unknown token is 401 and a runner token 403, as on every read route.
 * GET (a server-initiated stream) and DELETE (a session end) are 405: there are no sessions.
 */
/** The MCP SDK and GIMO's MCP server load with the first request to /mcp, not at start. */
let loading:
  | Promise<
      [
        typeof import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"),
        typeof import("./api.ts"),
        typeof import("./server.ts"),
      ]
    >
  | undefined;
const loadMcp = () => {
  loading ??= Promise.all([
    import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"),
    import("./api.ts"),
    import("./server.ts"),
  ]);
  return loading;
};

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]", "::1"];
const WILDCARD = new Set(["0.0.0.0", "::", "[::]", ""]);

export function registerMcpRoute(app: HttpApp, deps: HttpDeps): void {
  const { config } = deps.services.ctx;
  const allowed = new Set(LOOPBACK);
  if (!WILDCARD.has(config.host)) allowed.add(config.host.toLowerCase());
  allowed.add(new URL(config.publicUrl).hostname.toLowerCase());

  app.use("/mcp", async (c, next) => {
    checkRebinding(c, allowed);
    return next();
  });
  app.use("/mcp", requireAccess("read", deps));
  app.all("/mcp", async (c) => {
    if (c.req.method !== "POST") {
      c.header("allow", "POST");
      throw new GimoError("method_not_allowed", "MCP at /mcp is stateless: POST JSON-RPC messages");
    }
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json(
        { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error: invalid JSON" } },
        400,
      );
    }
    const [{ WebStandardStreamableHTTPServerTransport }, { createGimoApi }, { createMcpServer }] =
      await loadMcp();
    const token = bearerToken(c.req.header("authorization")) ?? "";
    const correlationId = c.get("correlationId");
    const api = createGimoApi("http://localhost", token, async (url, init) => {
      const headers = new Headers(init.headers);
      headers.set("x-correlation-id", correlationId);
      return app.request(url, { ...init, headers });
    });
    const server = createMcpServer(api);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      const res = await transport.handleRequest(c.req.raw, { parsedBody: body });
      const headers = new Headers(res.headers);
      headers.set("x-correlation-id", correlationId);
      return new Response(res.body, { status: res.status, headers });
    } finally {
      await server.close();
    }
  });
}

function checkRebinding(c: Context<HttpEnv>, allowed: Set<string>): void {
  const host = hostnameOf(c.req.header("host"));
  if (host === undefined || !allowed.has(host))
    throw new GimoError("forbidden", "this Host is not allowed at /mcp (DNS rebinding protection)");
  const origin = c.req.header("origin");
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).hostname.toLowerCase();
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || !allowed.has(originHost))
    throw new GimoError("forbidden", "this Origin is not allowed at /mcp (DNS rebinding protection)");
}

function hostnameOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    return new URL(`http://${header}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
