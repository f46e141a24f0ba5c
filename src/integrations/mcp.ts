import { createHash } from "node:crypto";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Sandbox } from "../runner/sandbox/sandbox-port.ts";
import { guardedFetch, type Resolver } from "./net.ts";
import { operationName, type StoredOperation } from "./operations.ts";

/**
 * MCP servers, through the official SDK client: Streamable HTTP over the guarded fetch (net.ts:
 * every address checked, redirects too, responses capped), or stdio — a server process started
 * inside GIMO's sandbox (bubblewrap: the host read-only, a private scratch directory, no network
 * unless the integration says `network: true` and then only through the egress proxy to public
 * hosts, an environment holding only what the integration names), never as GIMO's own unconfined
 * process. Messages from it are capped at the integration's response size.
 *
 * A session (an initialised client) is kept per integration and reused while its settings, secrets
 * included (hashed), stay the same; it is closed when idle for IDLE_MS, after a call timed out or
 * failed in transport, and when GIMO stops.
 */
export interface McpEndpoint {
  url?: string;
  stdio?: { command: string; args: string[]; env: Record<string, string>; network: boolean };
  /** Resolved header values (HTTP only). */
  headers: Record<string, string>;
  allowPrivate: boolean;
  maxBytes: number;
}

export interface McpDeps {
  sandbox: Sandbox;
  version: string;
  resolver?: Resolver;
}

interface Session {
  fingerprint: string;
  client: Client;
  lastUsed: number;
  /** The transport's last error (a message past the size cap ends the session with one). */
  lastError(): Error | undefined;
  /** Rejects when the transport fails for good (an answer past the cap): pending calls end at once. */
  failed: Promise<never>;
  stderrTail: () => string;
  close(): Promise<void>;
}

const IDLE_MS = 60_000;
const MAX_TOOLS = 1_000;

export class McpSessions {
  readonly #deps: McpDeps;
  readonly #sessions = new Map<string, Promise<Session>>();
  readonly #timer: NodeJS.Timeout;

  constructor(deps: McpDeps) {
    this.#deps = deps;
    this.#timer = setInterval(() => void this.#sweep(), IDLE_MS / 2);
    this.#timer.unref();
  }

  /** Runs `work` with a connected client for integration `id`; a failure in transport drops the session. */
  async use<T>(
    id: string,
    endpoint: McpEndpoint,
    signal: AbortSignal,
    work: (client: Client) => Promise<T>,
  ): Promise<T> {
    const fingerprint = createHash("sha256").update(JSON.stringify(endpoint)).digest("hex");
    let pending = this.#sessions.get(id);
    const current = pending ? await pending.catch(() => undefined) : undefined;
    if (!current || current.fingerprint !== fingerprint) {
      if (current) await this.drop(id);
      pending = this.#connect(endpoint, fingerprint, signal);
      this.#sessions.set(id, pending);
      pending.catch(() => this.#sessions.get(id) === pending && this.#sessions.delete(id));
    }
    let session: Session;
    try {
      session = await (pending as Promise<Session>);
    } catch (error) {
      throw withStderr(error, undefined);
    }
    session.lastUsed = Date.now();
    try {
      return await Promise.race([work(session.client), session.failed]);
    } catch (error) {
      // A tool's own error comes back as a result; what throws is the transport or a timeout.
      await this.drop(id);
      const cause = session.lastError();
      if (error instanceof Error && cause && !error.cause) error.cause = cause;
      throw withStderr(error, session);
    }
  }

  async drop(id: string): Promise<void> {
    const pending = this.#sessions.get(id);
    this.#sessions.delete(id);
    const session = await pending?.catch(() => undefined);
    await session?.close().catch(() => {});
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([...this.#sessions.keys()].map((id) => this.drop(id)));
  }

  async #sweep(): Promise<void> {
    for (const [id, pending] of this.#sessions) {
      const session = await pending.catch(() => undefined);
      if (session && Date.now() - session.lastUsed > IDLE_MS) await this.drop(id);
    }
  }

  /**
   * A session whose transport errors are watched: the SDK reports an SSE stream it could not read
   * (ours errors past the cap) through `onerror` and leaves the request waiting, so a cap error
   * fails the session at once instead of at the timeout.
   */
  async #connect(endpoint: McpEndpoint, fingerprint: string, signal: AbortSignal): Promise<Session> {
    const client = new Client({ name: "gimo", version: this.#deps.version });
    let fail: (error: Error) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    failed.catch(() => {});
    const errors: { last?: Error } = {};
    client.onerror = (error) => {
      errors.last = error;
      if (/larger than the integration's cap|exceeded maximum size/.test(error.message))
        fail(Object.assign(new Error(error.message), { name: "ResponseTooLarge" }));
    };
    const opening = this.#open(client, endpoint, signal);
    let opened: Awaited<typeof opening>;
    try {
      opened = await Promise.race([opening, failed]);
    } catch (error) {
      // Lost to the failure: whatever the opening started goes (a stdio server is stopped).
      await client.close().catch(() => {});
      await opening.then((o) => o.close()).catch(() => {});
      throw error;
    }
    return { ...opened, fingerprint, failed, lastUsed: Date.now(), lastError: () => errors.last };
  }

  async #open(
    client: Client,
    endpoint: McpEndpoint,
    signal: AbortSignal,
  ): Promise<Pick<Session, "client" | "stderrTail" | "close">> {
    if (endpoint.url) {
      const transport = new StreamableHTTPClientTransport(new URL(endpoint.url), {
        fetch: guardedFetch({
          allowPrivate: endpoint.allowPrivate,
          maxBytes: endpoint.maxBytes,
          secretHeaders: Object.keys(endpoint.headers),
          ...(this.#deps.resolver ? { resolver: this.#deps.resolver } : {}),
        }),
        requestInit: { headers: endpoint.headers },
        redirectPolicy: "follow",
        reconnectionOptions: {
          maxReconnectionDelay: 30_000,
          initialReconnectionDelay: 1_000,
          reconnectionDelayGrowFactor: 2,
          maxRetries: 0,
        },
      });
      await client.connect(transport, { signal });
      return {
        client,
        stderrTail: () => "",
        close: async () => {
          await transport.terminateSession().catch(() => {});
          await client.close();
        },
      };
    }
    const stdio = endpoint.stdio;
    if (!stdio) throw new Error("the integration has neither a URL nor a stdio command");
    const { sandbox } = this.#deps;
    const workspace = await mkdtemp(join(tmpdir(), "gimo-mcp-"));
    if (sandbox.user) await chown(workspace, sandbox.user.uid, sandbox.user.gid);
    let launch: Awaited<ReturnType<Sandbox["prepareProcess"]>> | undefined;
    let tail = "";
    const cleanup = async () => {
      await launch?.release().catch(() => {});
      await rm(workspace, { recursive: true, force: true }).catch(() => {});
    };
    try {
      launch = await sandbox.prepareProcess([stdio.command, ...stdio.args], {
        workspace,
        network: stdio.network,
        env: stdio.env,
        timeoutMs: 1,
        outputCapBytes: endpoint.maxBytes,
      });
      const transport = new StdioClientTransport({
        command: launch.file,
        args: launch.args,
        env: launch.env,
        cwd: launch.cwd,
        stderr: "pipe",
        maxBufferSize: endpoint.maxBytes,
      });
      (transport.stderr as Readable | null)?.on("data", (chunk: Buffer) => {
        tail = (tail + chunk.toString()).slice(-2_000);
      });
      await client.connect(transport, { signal });
      return {
        client,
        stderrTail: () => tail,
        close: async () => {
          await client.close().catch(() => {});
          await cleanup();
        },
      };
    } catch (error) {
      await client.close().catch(() => {});
      await cleanup();
      throw withStderr(error, { stderrTail: () => tail });
    }
  }
}

/** An error from a stdio server's session says what the server last wrote to stderr. */
function withStderr(error: unknown, session: Pick<Session, "stderrTail"> | undefined): unknown {
  const tail = session?.stderrTail().trim();
  if (!tail || !(error instanceof Error)) return error;
  error.message = `${error.message} (the server's stderr: ${tail.slice(-500)})`;
  return error;
}

/** `tools/list`, every page, as operations. */
export async function listMcpTools(client: Client, signal: AbortSignal): Promise<StoredOperation[]> {
  const out: StoredOperation[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50 && out.length < MAX_TOOLS; page++) {
    const answer = await client.listTools(cursor ? { cursor } : {}, { signal });
    for (const tool of answer.tools) {
      if (operationName(tool.name) !== tool.name) continue; // a name GIMO could not call back safely
      const description = tool.description ?? tool.title ?? tool.name;
      out.push({
        name: tool.name,
        description: description.length > 1_000 ? `${description.slice(0, 1_000)}…` : description,
        input_schema: tool.inputSchema as Record<string, unknown>,
      });
    }
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/** A `tools/call` result as text for a model, and whether the tool said it failed. */
export function mcpResultText(result: {
  content?: unknown;
  structuredContent?: unknown;
  isError?: unknown;
}): { isError: boolean; text: string } {
  const parts: string[] = [];
  for (const item of (result.content as Record<string, unknown>[] | undefined) ?? []) {
    if (item.type === "text" && typeof item.text === "string") parts.push(item.text);
    else if (item.type === "image" || item.type === "audio")
      parts.push(`[${item.type} ${String(item.mimeType)}]`);
    else if (item.type === "resource") {
      const resource = item.resource as { uri?: string; text?: string } | undefined;
      parts.push(resource?.text ?? `[resource ${resource?.uri ?? ""}]`);
    } else if (item.type === "resource_link") parts.push(`[resource link ${String(item.uri)}]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent));
  return { isError: result.isError === true, text: parts.join("\n") };
}
