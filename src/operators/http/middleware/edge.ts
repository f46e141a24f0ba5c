import { randomUUID } from "node:crypto";
import { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { GimoError } from "../../../core/errors.ts";
import type { HttpEnv } from "../env.ts";

/** Guards at the edge, before any route: correlation ids, body size, content type. */

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Echoes a sane `x-correlation-id` or mints one; every response carries it. The header is set
 * before the route runs, so it goes into the response as it is built (setting it afterwards would
 * make the Node adapter turn its lightweight response into a full web Response).
 */
export function correlation(): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const given = c.req.header("x-correlation-id");
    const id = given && CORRELATION.test(given) ? given : randomUUID();
    c.set("correlationId", id);
    c.header("x-correlation-id", id);
    await next();
  };
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** 413 for a body over `maxBytes` (declared or streamed), 415 for a non-JSON body. */
export function bodyGuard(maxBytes: number): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (!BODY_METHODS.has(c.req.method)) return next();
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(c, maxBytes);
    const text = await readBounded(c, maxBytes);
    if (text.trim() !== "") {
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
        throw new GimoError(
          "unsupported_media_type",
          `send JSON with Content-Type: application/json (got ${type.slice(0, 100) || "none"})`,
        );
      }
    }
    // An empty body means "no fields": JSON parsing sees `{}`, so optional bodies may be left out
    // and a missing required field gets a validation message rather than "malformed JSON"; the
    // raw bytes stay empty, so content-type checks downstream still see "no body".
    // (Hono keeps body promises in this cache; its type says values.)
    const empty = text.trim() === "";
    c.req.bodyCache.text = Promise.resolve(empty ? "{}" : text) as unknown as string;
    if (empty) c.req.bodyCache.arrayBuffer = Promise.resolve(new ArrayBuffer(0)) as unknown as ArrayBuffer;
    return next();
  };
}

/** Decodes UTF-8 as `Request.text()` does: a leading BOM dropped, invalid bytes as U+FFFD. */
const utf8 = new TextDecoder("utf-8");

/**
 * Reads the whole body, refusing it as soon as it grows past the limit (chunked bodies too). It
 * reads the Node request itself (the app is served by @hono/node-server, see gimo.ts): going
 * through `c.req.raw.body` would build a web Request and a web stream for every request, a good
 * part of a small request's cost. A request made in-process (`app.request`, as the MCP endpoint
 * calls the REST routes) has no Node request: its web body is read instead, under the same bound.
 */
function readBounded(c: Context<HttpEnv>, maxBytes: number): Promise<string> {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (!(incoming instanceof IncomingMessage)) return readWebBody(c, maxBytes);
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) finish(() => reject(tooLarge(c, maxBytes)));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(() => resolve(utf8.decode(Buffer.concat(chunks, size))));
    // The client went away mid-body: nobody will read the answer; a 400, not a logged 500.
    const gone = () =>
      finish(() =>
        reject(new GimoError("bad_request", "the connection closed before the whole body arrived")),
      );
    const onClose = () => (incoming.readableEnded ? onEnd() : gone());
    const finish = (settle: () => void) => {
      incoming.off("data", onData).off("end", onEnd).off("error", gone).off("close", onClose);
      settle();
    };
    if (incoming.readableEnded) return resolve("");
    if (incoming.destroyed || incoming.errored) return gone();
    incoming.on("data", onData).on("end", onEnd).on("error", gone).on("close", onClose);
  });
}

async function readWebBody(c: Context<HttpEnv>, maxBytes: number): Promise<string> {
  const body = c.req.raw.body;
  if (!body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge(c, maxBytes);
    chunks.push(chunk);
  }
  return utf8.decode(Buffer.concat(chunks, size));
}

/**
 * The rest of a refused body is never read, so the connection cannot carry another request: say
 * `Connection: close`, or a keep-alive client reuses a socket the server is about to drop.
 */
function tooLarge(c: Context<HttpEnv>, maxBytes: number): GimoError {
  c.header("connection", "close");
  return new GimoError("payload_too_large", `request body is larger than ${maxBytes} bytes`);
}
