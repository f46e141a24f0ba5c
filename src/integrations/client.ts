import type { Sandbox } from "../runner/sandbox/sandbox-port.ts";
import type { McpEndpoint, McpSessions } from "./mcp.ts";
import { guardedFetch, type Resolver } from "./net.ts";
import { discoverOpenApi, requestFor } from "./openapi.ts";
import type { StoredOperation } from "./operations.ts";

/**
 * Reaching an integration: discovery and one call, over OpenAPI or MCP. No policy lives here
 * (allow-lists, validation, audit: app/integration-gateway.ts); only transport — and the address
 * guard, the response cap and the abort signal, which every byte passes (net.ts).
 */
export interface ResolvedIntegration {
  id: string;
  name: string;
  kind: "openapi" | "mcp";
  base_url?: string | undefined;
  stdio?: { command: string; args: string[]; env: Record<string, string>; network: boolean } | undefined;
  /** Header values with their secrets resolved. */
  headers: Record<string, string>;
  allow_private: boolean;
  max_response_bytes: number;
}

export interface CallAnswer {
  ok: boolean;
  httpStatus?: number;
  text: string;
}

export interface ClientDeps {
  sandbox: Sandbox;
  version: string;
  resolver?: Resolver;
}

/** Discovery documents may be larger than call answers (GIMO's own is ~0.5 MB). */
const DISCOVERY_MAX_BYTES = 8 * 1024 * 1024;

export class IntegrationClient {
  readonly #deps: ClientDeps;
  readonly #resolver: Resolver | undefined;
  /** The MCP client side (and its SDK) is loaded with the first MCP integration used. */
  #mcpModule: Promise<typeof import("./mcp.ts")> | undefined;
  #mcpSessions: McpSessions | undefined;

  constructor(deps: ClientDeps) {
    this.#deps = deps;
    this.#resolver = deps.resolver;
  }

  async #mcp(): Promise<{ sessions: McpSessions; mcp: typeof import("./mcp.ts") }> {
    this.#mcpModule ??= import("./mcp.ts");
    const mcp = await this.#mcpModule;
    this.#mcpSessions ??= new mcp.McpSessions(this.#deps);
    return { sessions: this.#mcpSessions, mcp };
  }

  async discover(i: ResolvedIntegration, signal: AbortSignal): Promise<StoredOperation[]> {
    if (i.kind === "mcp") {
      const { sessions, mcp } = await this.#mcp();
      return sessions.use(i.id, endpoint(i), signal, (c) => mcp.listMcpTools(c, signal));
    }
    const fetcher = this.#fetch(i, DISCOVERY_MAX_BYTES);
    const found = await discoverOpenApi(i.base_url ?? "", (url, init) => fetcher(url, { ...init, signal }));
    return found.operations;
  }

  async invoke(
    i: ResolvedIntegration,
    op: StoredOperation,
    args: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<CallAnswer> {
    if (i.kind === "mcp") {
      const { sessions, mcp } = await this.#mcp();
      const result = await sessions.use(i.id, endpoint(i), signal, (client) =>
        client.callTool({ name: op.name, arguments: args }, undefined, { signal }),
      );
      if (JSON.stringify(result).length > i.max_response_bytes)
        throw Object.assign(new Error(`the answer is larger than ${i.max_response_bytes} bytes`), {
          name: "ResponseTooLarge",
        });
      const { isError, text } = mcp.mcpResultText(result as Parameters<typeof mcp.mcpResultText>[0]);
      return { ok: !isError, text };
    }
    const plan = requestFor(op, args);
    const res = await this.#fetch(i, i.max_response_bytes)(plan.url, {
      method: plan.method,
      headers: { ...plan.headers, ...i.headers },
      ...(plan.body !== undefined ? { body: plan.body } : {}),
      signal,
    });
    const text = await res.text();
    return { ok: res.ok, httpStatus: res.status, text: `HTTP ${res.status}\n${text}` };
  }

  /** Forgets the integration's session (its settings changed, or it was deleted). */
  async forget(id: string): Promise<void> {
    await this.#mcpSessions?.drop(id);
  }

  async close(): Promise<void> {
    await this.#mcpSessions?.closeAll();
  }

  #fetch(i: ResolvedIntegration, maxBytes: number) {
    return guardedFetch({
      allowPrivate: i.allow_private,
      maxBytes,
      secretHeaders: Object.keys(i.headers),
      ...(this.#resolver ? { resolver: this.#resolver } : {}),
    });
  }
}

function endpoint(i: ResolvedIntegration): McpEndpoint {
  return {
    ...(i.base_url ? { url: i.base_url } : {}),
    ...(i.stdio ? { stdio: i.stdio } : {}),
    headers: i.headers,
    allowPrivate: i.allow_private,
    maxBytes: i.max_response_bytes,
  };
}
