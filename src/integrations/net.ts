import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { admitAddress, admitHostName } from "../core/address-guard.ts";

/**
 * Every byte an integration exchanges goes through `guardedFetch`: a `fetch` over node:http(s) that
 *
 *   1. refuses anything but http(s), and cloud metadata names before any lookup;
 *   2. resolves the host itself and checks EVERY address (core/address-guard.ts): link-local and
 *      metadata never, private ranges only with `allowPrivate`;
 *   3. connects to exactly the addresses it checked (a `lookup` that answers them), so DNS cannot
 *      be re-pointed between check and connect (rebinding);
 *   4. follows redirects itself (at most MAX_REDIRECTS), each hop checked again from step 1, and
 *      drops the integration's own headers (its secrets) when a redirect leaves the origin;
 *   5. aborts on `signal` (the call's timeout) and errors a response body past `maxBytes`.
 *
 * The answer is a web `Response`, so the MCP SDK's Streamable HTTP client runs on it unchanged.
 */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

export interface GuardOptions {
  allowPrivate: boolean;
  /** Largest response body in bytes; a larger one errors with `ResponseTooLarge`. */
  maxBytes: number;
  /** Header names (any case) that carry the integration's secrets: never sent to another origin. */
  secretHeaders?: readonly string[];
  resolver?: Resolver;
}

/** The address guard said no (the message says which address and why). */
export class AddressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AddressRefused";
  }
}

export class ResponseTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`the response is larger than the integration's cap of ${limit} bytes`);
    this.name = "ResponseTooLarge";
    this.limit = limit;
  }
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Resolves `url`'s host and checks every address; throws `AddressRefused`. */
export async function checkedAddresses(
  url: URL,
  allowPrivate: boolean,
  resolver: Resolver = systemResolver,
): Promise<{ address: string; family: number }[]> {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new AddressRefused(`${url.protocol} URLs are not allowed; only http and https`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const name = admitHostName(host);
  if (!name.allowed) throw new AddressRefused(name.reason);
  const family = isIP(host);
  const addresses = family ? [{ address: host, family }] : await resolver(host).catch(() => []);
  if (addresses.length === 0) throw new AddressRefused(`${host} does not resolve`);
  for (const { address } of addresses) {
    const verdict = admitAddress(host, address, allowPrivate);
    if (!verdict.allowed) throw new AddressRefused(verdict.reason);
  }
  return addresses;
}

export function guardedFetch(options: GuardOptions) {
  const secret = new Set((options.secretHeaders ?? []).map((h) => h.toLowerCase()));
  return async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    let url = new URL(String(input));
    let method = (init.method ?? "GET").toUpperCase();
    let body = await bodyBytes(init.body);
    const headers = new Headers(init.headers);
    const origin = url.origin;
    const signal = init.signal ?? undefined;
    for (let hop = 0; ; hop++) {
      signal?.throwIfAborted();
      const addresses = await checkedAddresses(url, options.allowPrivate, options.resolver);
      const res = await send(url, addresses, method, headers, body, signal);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return toResponse(res, options.maxBytes);
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new AddressRefused(`more than ${MAX_REDIRECTS} redirects`);
      url = new URL(location, url);
      if (url.origin !== origin) for (const name of secret) headers.delete(name);
      if (
        res.statusCode === 303 ||
        ((res.statusCode === 301 || res.statusCode === 302) && method === "POST")
      ) {
        method = method === "HEAD" ? "HEAD" : "GET";
        body = undefined;
        headers.delete("content-type");
      }
    }
  };
}

async function bodyBytes(body: RequestInit["body"]): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  return Buffer.from(await new Response(body).arrayBuffer());
}

function send(
  url: URL,
  addresses: { address: string; family: number }[],
  method: string,
  headers: Headers,
  body: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  // Connect to the checked addresses only (Node calls `lookup` with all:true when it races families).
  const lookup: LookupFunction = (_host, opts, callback) => {
    const first = addresses[0] as { address: string; family: number };
    if ((opts as { all?: boolean }).all)
      (callback as (e: null, a: typeof addresses) => void)(null, addresses);
    else callback(null, first.address, first.family);
  };
  const outgoing: Record<string, string> = {};
  headers.forEach((value, key) => {
    outgoing[key] = value;
  });
  if (body) outgoing["content-length"] = String(body.length);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: outgoing, lookup, signal, agent: false }, resolve);
    req.on("error", reject);
    req.end(body);
  });
}

function toResponse(res: IncomingMessage, maxBytes: number): Response {
  const headers = new Headers();
  for (const [key, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  const status = res.statusCode ?? 502;
  if (status === 204 || status === 304 || status < 200) {
    res.resume();
    return new Response(null, { status: status < 200 ? 502 : status, headers });
  }
  let total = 0;
  let ended = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (error: Error) => {
        if (ended) return;
        ended = true;
        controller.error(error);
        res.destroy();
      };
      res.on("data", (chunk: Buffer) => {
        if (ended) return;
        total += chunk.length;
        if (total > maxBytes) fail(new ResponseTooLarge(maxBytes));
        else controller.enqueue(new Uint8Array(chunk));
      });
      res.on("end", () => {
        if (ended) return;
        ended = true;
        controller.close();
      });
      res.on("error", fail);
      res.on("aborted", () => fail(new Error("the connection was cut")));
    },
    cancel() {
      ended = true;
      res.destroy();
    },
  });
  return new Response(stream, { status, statusText: res.statusMessage ?? "", headers });
}
