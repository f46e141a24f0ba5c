import { type ClientRequest, request } from "node:http";

/**
 * A Server-Sent Events client over a real socket (node:http, no agent, no fetch): it parses frames
 * from the byte stream as they arrive and notices when the server ends the response.
 */
export interface Frame {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export interface SseClient {
  status: number;
  frames: Frame[];
  comments: string[];
  /** Whether the server has ended the response (or the socket closed). */
  readonly ended: boolean;
  /** Resolves once `predicate(frames)` holds; fails after `timeoutMs` or when the stream ends first. */
  until(predicate: (frames: Frame[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the stream; fails after `timeoutMs`. Returns how long it took. */
  endsWithin(timeoutMs: number): Promise<number>;
  close(): void;
}

export function openSse(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    const frames: Frame[] = [];
    const comments: string[] = [];
    const listeners = new Set<() => void>();
    let ended = false;
    const changed = () => {
      for (const listener of [...listeners]) listener();
    };
    const end = () => {
      if (ended) return;
      ended = true;
      changed();
    };
    req = request(
      url,
      {
        agent: false,
        headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", ...headers },
      },
      (res) => {
        res.setEncoding("utf8");
        let buffer = "";
        let frame: Frame = { id: undefined, event: undefined, data: "" };
        let data: string[] = [];
        let touched = false;
        res.on("data", (chunk: string) => {
          buffer += chunk;
          for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
            const line = buffer.slice(0, nl).replace(/\r$/, "");
            buffer = buffer.slice(nl + 1);
            if (line === "") {
              if (touched) frames.push({ ...frame, data: data.join("\n") });
              frame = { id: undefined, event: undefined, data: "" };
              data = [];
              touched = false;
            } else if (line.startsWith(":")) {
              comments.push(line.slice(1).trim());
            } else {
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              touched = true;
              if (field === "id") frame.id = text;
              else if (field === "event") frame.event = text;
              else if (field === "data") data.push(text);
            }
          }
          changed();
        });
        res.on("end", end);
        res.on("close", end);
        res.on("error", end);
        resolve({
          status: res.statusCode ?? 0,
          frames,
          comments,
          get ended() {
            return ended;
          },
          until(predicate, what, timeoutMs = 15_000) {
            return waitFor(listeners, timeoutMs, () => {
              if (predicate(frames)) return "done";
              if (ended) return new Error(`stream ended before ${what}; got ${ids(frames)}`);
              return undefined;
            }).catch((error: Error) => {
              throw error.message.startsWith("timed out")
                ? new Error(`${error.message}: ${what}; got ${ids(frames)}`)
                : error;
            });
          },
          async endsWithin(timeoutMs) {
            const started = Date.now();
            await waitFor(listeners, timeoutMs, () => (ended ? "done" : undefined));
            return Date.now() - started;
          },
          close() {
            req.destroy();
          },
        });
      },
    );
    req.on("error", (error) => {
      end();
      reject(error);
    });
    req.end();
  });
}

function ids(frames: Frame[]): string {
  return frames.map((f) => f.id).join(",");
}

function waitFor(
  listeners: Set<() => void>,
  timeoutMs: number,
  check: () => "done" | Error | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const listener = () => {
      const verdict = check();
      if (verdict === undefined) return;
      clearTimeout(timer);
      listeners.delete(listener);
      if (verdict === "done") resolve();
      else reject(verdict);
    };
    const timer = setTimeout(() => {
      listeners.delete(listener);
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    listeners.add(listener);
    listener();
  });
}
