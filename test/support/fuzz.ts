import { request as httpRequest } from "node:http";

/**
 * Tools for throwing hostile input at a real GIMO: a sender that reports instead of throwing
 * (fetch for bodies and headers, node:http for paths sent byte-for-byte), JSON with tokens that
 * JSON.stringify cannot write (1e309, -0, raw escapes), a seeded random JSON generator and a
 * bounded-concurrency map.
 */

export interface FuzzCase {
  label: string;
  method: string;
  /** Path and query exactly as they go on the wire (already percent-encoded, or deliberately not). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
  /** Send with node:http so the request target is not normalised by the URL parser. */
  raw?: boolean;
  /** Statuses this case must get; otherwise any non-5xx answer is accepted. */
  expect?: number[];
}

export interface FuzzResult {
  status: number;
  header(name: string): string | null;
  text: string;
  error?: string;
}

const TIMEOUT_MS = 15_000;

export function send(base: string, c: FuzzCase): Promise<FuzzResult> {
  return c.raw ? sendRaw(base, c) : sendFetch(base, c);
}

function failed(error: unknown): FuzzResult {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const why = [e?.message ?? String(error), e?.cause?.code, e?.cause?.message].filter(Boolean).join(" / ");
  return { status: 0, header: () => null, text: "", error: why };
}

async function sendFetch(base: string, c: FuzzCase): Promise<FuzzResult> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  try {
    const body = typeof c.body === "function" ? c.body() : c.body;
    const init: RequestInit & { duplex?: "half" } = {
      method: c.method,
      headers: c.headers,
      signal: stop.signal,
    };
    if (body !== undefined) {
      init.body = body as RequestInit["body"];
      if (body instanceof ReadableStream) init.duplex = "half";
    }
    const res = await fetch(`${base}${c.path}`, init);
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
      // An event stream never ends: the status and headers are all we wanted.
      stop.abort();
      return { status: res.status, header: (n) => res.headers.get(n), text: "" };
    }
    const text = await res.text();
    return { status: res.status, header: (n) => res.headers.get(n), text };
  } catch (error) {
    return failed(error);
  } finally {
    clearTimeout(timer);
  }
}

function sendRaw(base: string, c: FuzzCase): Promise<FuzzResult> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: c.method, path: c.path, headers: c.headers },
      (res) => {
        const header = (n: string) => {
          const v = res.headers[n.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(", ") : String(v);
        };
        if (header("content-type")?.startsWith("text/event-stream")) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, header, text: "" });
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, header, text: Buffer.concat(chunks).toString() }),
        );
        res.on("error", (e) => resolve(failed(e)));
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on("error", (e) => resolve(failed(e)));
    if (c.body !== undefined && typeof c.body !== "function") req.write(c.body);
    req.end();
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A JSON token written verbatim: numbers JSON.stringify cannot produce, raw escapes, deep nesting. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}
export const raw = (text: string) => new RawJson(text);

/** JSON.stringify that writes RawJson values verbatim. */
export function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `@@raw${raws.length - 1}@@`;
    }
    return v;
  });
  return (text ?? "").replace(/"@@raw(\d+)@@"/g, (_m, i) => raws[Number(i)] ?? "null");
}

/** Every path to a value inside a JSON value, the root excluded: ["plan"], ["plan","steps",0]… */
export function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i], ...pathsOf(v, [...prefix, i]));
    });
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...pathsOf(v, [...prefix, k]));
  }
  return out;
}

/** A deep copy of `value` with the value at `path` replaced (or removed when `to` is `REMOVE`). */
export const REMOVE = Symbol("remove");
export function withAt(value: unknown, path: (string | number)[], to: unknown): unknown {
  if (path.length === 0) return to;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && to === REMOVE) copy.splice(Number(head), 1);
    else copy[Number(head)] = withAt(copy[Number(head)], rest, to);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && to === REMOVE) delete copy[head];
  else copy[head] = withAt(copy[head], rest, to);
  return copy;
}

/** mulberry32: a tiny seeded PRNG, so a failing random case can be replayed from its seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick };
}
export type Rng = ReturnType<typeof prng>;

const ALPHABET = [
  "a",
  "Z",
  "0",
  " ",
  "-",
  "_",
  "/",
  ".",
  "'",
  '"',
  "\\",
  "%",
  "\n",
  "\t",
  "\u0000",
  "\u0007",
  "é",
  "ß",
  "\u202e",
  "\u200b",
  "\ufeff",
  "😀",
  "🚀",
  "م",
  "中",
  "\ud800",
  "\udfff",
];

export function randomString(r: Rng, max = 40): string {
  const special = ["", "d_01JD0000000000000000000000", "../../etc/passwd", "' OR 1=1 --", "agent", "low"];
  if (r.next() < 0.15) return r.pick(special);
  if (r.next() < 0.03) return "x".repeat(1 + r.int(30_000));
  let s = "";
  const n = r.int(max);
  for (let i = 0; i < n; i++) s += r.pick(ALPHABET);
  return s;
}

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e21,
  -1e21,
  2 ** 31,
  2 ** 53 - 1,
  2 ** 53 + 2,
  1000,
  1001,
  86_400,
  86_401,
];
const RAW_NUMBERS = ["1e309", "-1e309", "1e-400", "123456789012345678901234567890", "-0.0", "1E2"];

/** A random JSON value; `keys` biases objects towards the names an endpoint understands. */
export function randomJson(r: Rng, keys: readonly string[], depth = 0): unknown {
  const roll = r.next();
  const leaf = depth >= 4 || roll < 0.45;
  if (leaf) {
    const kind = r.int(6);
    if (kind === 0) return null;
    if (kind === 1) return r.next() < 0.5;
    if (kind === 2) return r.next() < 0.3 ? raw(r.pick(RAW_NUMBERS)) : r.pick(NUMBERS);
    if (kind === 3) return r.int(2_000_000) - 1_000_000;
    return randomString(r);
  }
  if (roll < 0.65) return Array.from({ length: r.int(5) }, () => randomJson(r, keys, depth + 1));
  const obj: Record<string, unknown> = {};
  const n = r.int(6);
  for (let i = 0; i < n; i++) {
    const key = r.next() < 0.8 && keys.length > 0 ? r.pick(keys) : randomString(r, 12);
    obj[key] = randomJson(r, keys, depth + 1);
  }
  return obj;
}

/** A deep-ish array nested `depth` times, as JSON text. */
export function nestedArray(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}
