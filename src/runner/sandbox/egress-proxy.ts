import { lookup } from "node:dns/promises";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect, isIP, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import type { Duplex } from "node:stream";
import { admitsAddress, admitsName, type EgressRules } from "../../core/egress-policy.ts";

/**
 * GIMO's egress proxy: the only way out of a sandbox with `network: true` (network.ts). An HTTP
 * proxy listening on a unix socket that GIMO bind-mounts into the sandbox; it speaks
 *
 *   CONNECT host:port            a tunnel (HTTPS, and any TCP a client sends through a proxy)
 *   GET http://host/path …       plain HTTP, forwarded (absolute-form requests only)
 *
 * For each connection: the name must pass the allowlist (`admitsName`), GIMO resolves it itself,
 * and connects to the first address that passes `admitsAddress` — the very address it checked, so a
 * name that resolves differently a moment later (DNS rebinding) changes nothing. A refusal is a
 * 403 whose body says why, and every decision is reported to `log`. The proxy lives in GIMO's
 * process, so a command cannot spend its descriptors: at most `maxConnections` (256) connections
 * are open at once — more are closed on arrival — and an idle one closes after `idleTimeoutMs`.
 */
export interface EgressProxyOptions {
  rules: EgressRules;
  /** Connections open at once (each tunnel holds two descriptors of GIMO's). */
  maxConnections?: number;
  /** A tunnel or request with no traffic for this long is closed. */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
  /** How long a connection to the outside may take to open. */
  connectTimeoutMs?: number;
}

export interface EgressProxy {
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export async function startEgressProxy(socketPath: string, opts: EgressProxyOptions): Promise<EgressProxy> {
  const log = opts.log ?? (() => {});
  const rules: EgressRules = { ...opts.rules, hostAddresses: hostAddresses() };
  const open = new Set<Duplex>();
  const track = (s: Duplex) => {
    open.add(s);
    s.once("close", () => open.delete(s));
  };

  /** Resolves `host` and answers the first address the policy admits, or the refusal. */
  const vet = async (host: string, port: number): Promise<{ address: string } | { refused: string }> => {
    const byName = admitsName(rules, host, port);
    if (!byName.allowed) return { refused: byName.reason };
    const addresses = isIP(host)
      ? [host]
      : await lookup(host, { all: true, verbatim: true }).then(
          (found) => found.map((a) => a.address),
          () => [] as string[],
        );
    if (addresses.length === 0) return { refused: `${host} does not resolve` };
    let last = "";
    for (const address of addresses) {
      const verdict = admitsAddress(rules, host, port, address);
      if (verdict.allowed) return { address };
      last = verdict.reason;
    }
    return { refused: last };
  };

  const idle = opts.idleTimeoutMs ?? 5 * 60_000;
  const server = createServer();
  server.maxConnections = opts.maxConnections ?? 256;
  server.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on("error", () => client.destroy());
    const target = parseAuthority(req.url ?? "");
    if (!target) return refuseTunnel(client, `CONNECT ${req.url} is not host:port`, log);
    void vet(target.host, target.port).then((verdict) => {
      if ("refused" in verdict) return refuseTunnel(client, verdict.refused, log, target);
      const upstream = connect({ host: verdict.address, port: target.port });
      track(upstream);
      for (const side of [client, upstream]) side.on("timeout", () => side.destroy());
      upstream.setTimeout(opts.connectTimeoutMs ?? 30_000, () =>
        upstream.destroy(new Error("connect timeout")),
      );
      upstream.once("connect", () => {
        upstream.setTimeout(idle);
        if ("setTimeout" in client) (client as Socket).setTimeout(idle);
        log(`egress: CONNECT ${target.host}:${target.port} (${verdict.address}) allowed`);
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.once("error", (error) => {
        log(`egress: CONNECT ${target.host}:${target.port} failed: ${error.message}`);
        if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      });
      client.once("close", () => upstream.destroy());
    });
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      return refuseRequest(res, 400, "the proxy takes absolute http:// URLs (or CONNECT)", log);
    }
    if (url.protocol !== "http:") return refuseRequest(res, 400, `${url.protocol} is not proxied`, log);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = url.port ? Number(url.port) : 80;
    void vet(host, port).then((verdict) => {
      if ("refused" in verdict) return refuseRequest(res, 403, verdict.refused, log, `${host}:${port}`);
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())),
      );
      const upstream = request({
        host: verdict.address,
        port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, host: url.host },
        timeout: opts.connectTimeoutMs ?? 30_000,
      });
      log(`egress: ${req.method} http://${url.host}${url.pathname} (${verdict.address}) allowed`);
      upstream.on("response", (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("timeout", () => upstream.destroy(new Error("timeout")));
      upstream.on("error", (error) => {
        if (!res.headersSent) refuseRequest(res, 502, `upstream failed: ${error.message}`, log);
        else res.destroy();
      });
      req.pipe(upstream);
    });
  });
  server.on("connection", (socket: Socket) => {
    track(socket);
    socket.setTimeout(idle, () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Every address of this host's interfaces. */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address.replace(/%.*$/, ""))
    .filter((a): a is string => Boolean(a));
}

/** `host:port` or `[v6]:port` of a CONNECT request. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(authority) ?? /^([^:[\]\s/]+):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  return { host: m[1] as string, port: Number(m[2]) };
}

function refuseTunnel(
  client: Duplex,
  why: string,
  log: (line: string) => void,
  target?: { host: string; port: number },
): void {
  log(`egress: refused ${target ? `${target.host}:${target.port}` : "a tunnel"}: ${why}`);
  const body = `GIMO egress proxy: refused: ${why}\n`;
  client.end(
    `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function refuseRequest(
  res: ServerResponse,
  status: number,
  why: string,
  log: (line: string) => void,
  target?: string,
): void {
  log(`egress: refused ${target ?? "a request"}: ${why}`);
  res.writeHead(status, { "content-type": "text/plain", connection: "close" });
  res.end(`GIMO egress proxy: refused: ${why}\n`);
}
