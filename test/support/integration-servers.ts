import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

/**
 * Real servers for the integration suites: the MCP "everything" server from the npm registry
 * (@modelcontextprotocol/server-everything) over stdio or Streamable HTTP, and a small node:http
 * service with an OpenAPI document for the behaviours GIMO itself never shows (redirects, huge
 * answers) — each a real HTTP server on loopback.
 */
const require = createRequire(import.meta.url);

/** The server-everything entry point: `node <path> stdio|streamableHttp`. */
export const everythingServer = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");

export interface EverythingHttp {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/** server-everything over Streamable HTTP on a free port; resolves when it listens. */
export async function startEverythingHttp(): Promise<EverythingHttp> {
  const port = await freePort();
  const child = spawn(process.execPath, [everythingServer, "streamableHttp"], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`server-everything did not start: ${text}`)), 20_000);
    const look = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("listening on port")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", look);
    child.stderr?.on("data", look);
    child.once("exit", (code) => reject(new Error(`server-everything exited ${code}: ${text}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    child,
    close: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export interface TinyService {
  url: string;
  port: number;
  /** Every request's method, path and headers, in order. */
  seen: { method: string; path: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

/** A real HTTP service answering from `routes` (path → handler), plus its OpenAPI document. */
export async function startTinyService(
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>,
  document?: unknown,
): Promise<TinyService> {
  const seen: TinyService["seen"] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    seen.push({ method: req.method ?? "", path, headers: req.headers });
    if (path === "/openapi.json" && document !== undefined) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(document));
      return;
    }
    const route = routes[path];
    if (route) return route(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
