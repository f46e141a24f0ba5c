import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, request, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EgressRules } from "../../core/egress-policy.ts";
import { parseAuthority, startEgressProxy } from "./egress-proxy.ts";

/**
 * The egress proxy over its real unix socket, with a real upstream on the host's loopback: the
 * policy decides before any byte reaches the upstream, and both CONNECT tunnels and plain HTTP
 * requests go through the same check.
 */
let dir: string;
let upstream: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gimo-egress-test-"));
  upstream = createHttpServer((req, res) => {
    hits++;
    res.end(`upstream saw ${req.method} ${req.url} host=${req.headers.host}`);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  port = (upstream.address() as { port: number }).port;
});
afterAll(() => {
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withProxy<T>(rules: EgressRules, body: (socket: string, log: string[]) => Promise<T>) {
  const socket = join(dir, `p-${Math.random().toString(36).slice(2)}.sock`);
  const log: string[] = [];
  const proxy = await startEgressProxy(socket, { rules, log: (l) => log.push(l) });
  try {
    return await body(socket, log);
  } finally {
    await proxy.close();
  }
}

/** Sends a raw request over the socket and answers the status line and the rest. */
function raw(socket: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let got = "";
    c.on("data", (d) => {
      got += d.toString();
      if (/^HTTP\/1\.1 200 Connection Established\r\n\r\n/.test(got)) {
        c.write(`GET /tunnel HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      }
    });
    c.on("end", () => resolve(got));
    c.on("error", reject);
    c.write(text);
  });
}

function viaProxy(socket: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: url, headers: { host: "proxy" } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the egress proxy", () => {
  it("refuses the host's loopback when no rule names it, before connecting", async () => {
    await withProxy({ allow: [] }, async (socket, log) => {
      const before = hits;
      const tunnel = await raw(socket, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nhost: x\r\n\r\n`);
      expect(tunnel).toMatch(/^HTTP\/1\.1 403/);
      expect(tunnel).toMatch(/loopback, private or reserved/);
      const plain = await viaProxy(socket, `http://localhost:${port}/x`);
      expect(plain.status).toBe(403);
      expect(hits).toBe(before);
      expect(log.join("\n")).toMatch(/egress: refused 127\.0\.0\.1:\d+/);
    });
  });

  it("refuses a host outside the allowlist by name", async () => {
    await withProxy({ allow: ["registry.npmjs.org"] }, async (socket) => {
      const tunnel = await raw(socket, `CONNECT example.org:443 HTTP/1.1\r\nhost: x\r\n\r\n`);
      expect(tunnel).toMatch(/not in the project's egress allowlist/);
    });
  });

  it("tunnels and forwards to a host a rule names exactly, and logs it", async () => {
    await withProxy(
      { allow: [], always: [`127.0.0.1:${port}`, `localhost:${port}`] },
      async (socket, log) => {
        const tunnel = await raw(socket, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nhost: x\r\n\r\n`);
        expect(tunnel).toContain("upstream saw GET /tunnel");
        const plain = await viaProxy(socket, `http://localhost:${port}/page?q=1`);
        expect(plain).toEqual({ status: 200, body: `upstream saw GET /page?q=1 host=localhost:${port}` });
        expect(log.join("\n")).toMatch(/CONNECT 127\.0\.0\.1:\d+ \(127\.0\.0\.1\) allowed/);
      },
    );
  });

  it("answers bad requests clearly", async () => {
    await withProxy({ allow: [] }, async (socket) => {
      expect(await raw(socket, "CONNECT nonsense HTTP/1.1\r\nhost: x\r\n\r\n")).toMatch(
        /403[\s\S]*not host:port/,
      );
      expect((await viaProxy(socket, "/relative")).status).toBe(400);
      expect(await raw(socket, "CONNECT does-not-resolve.invalid:443 HTTP/1.1\r\nhost: x\r\n\r\n")).toMatch(
        /does not resolve/,
      );
    });
  });

  it("holds at most maxConnections connections, closing the rest on arrival", async () => {
    const socket = join(dir, "limited.sock");
    const proxy = await startEgressProxy(socket, { rules: { allow: [] }, maxConnections: 3 });
    try {
      const clients = Array.from({ length: 8 }, () => connect(socket));
      const closed = await Promise.all(
        clients.map(
          (c) =>
            new Promise<boolean>((resolve) => {
              c.on("error", () => {});
              c.on("close", () => resolve(true));
              setTimeout(() => resolve(false), 1_000);
            }),
        ),
      );
      expect(closed.filter(Boolean).length).toBe(5);
      for (const c of clients) c.destroy();
    } finally {
      await proxy.close();
    }
  });

  it("parses CONNECT authorities", () => {
    expect(parseAuthority("example.org:443")).toEqual({ host: "example.org", port: 443 });
    expect(parseAuthority("[::1]:8080")).toEqual({ host: "::1", port: 8080 });
    expect(parseAuthority("example.org")).toBeUndefined();
    expect(parseAuthority("a b:1")).toBeUndefined();
  });
});
