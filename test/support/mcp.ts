import { execFile } from "node:child_process";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

/**
 * Clients somebody else wrote, pointed at GIMO's MCP server: the official SDK client over
 * Streamable HTTP and over stdio (`gimo mcp` as a subprocess), the MCP Inspector's CLI, and the
 * conformance suite (through a gateway that adds the bearer token, since it sends none itself).
 */
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
export const GIMO_BIN = join(ROOT, "src", "operators", "cli", "main.ts");

export async function httpClient(url: string, token: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: "gimo-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}`, ...headers } },
  });
  await client.connect(transport);
  return client;
}

export async function stdioClient(url: string, token: string) {
  const client = new Client({ name: "gimo-test", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [GIMO_BIN, "mcp", "--url", url, "--token", token],
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "silent" },
    stderr: "pipe",
  });
  await client.connect(transport);
  return client;
}

/** Runs `gimo mcp` alone (no client) and returns how it ended: for the refusals at start. */
export async function gimoMcpProcess(args: string[], env: Record<string, string> = {}) {
  try {
    const out = await run(process.execPath, [GIMO_BIN, "mcp", ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 20_000,
    });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/**
 * `npx @modelcontextprotocol/inspector --cli …`: its exit code and the JSON answer it printed (it
 * prints a tool's error result too, then exits non-zero), or the failure's output.
 */
export async function inspector(args: string[], catalogDir: string) {
  let code = 0;
  let stdout = "";
  let stderr = "";
  try {
    ({ stdout, stderr } = await run(join(ROOT, "node_modules", ".bin", "mcp-inspector"), ["--cli", ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
        MCP_CATALOG_PATH: join(catalogDir, "mcp.json"),
        HOME: catalogDir,
      },
      timeout: 60_000,
    }));
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    code = e.code ?? -1;
    stdout = e.stdout ?? "";
    stderr = e.stderr ?? "";
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  return { code, json: json as any, output: `${stdout}${stderr}` };
}

/** `npx conformance server --url … --scenario S`: exit code and output. */
export async function conformance(url: string, scenario: string, outputDir: string) {
  try {
    const { stdout, stderr } = await run(
      join(ROOT, "node_modules", ".bin", "conformance"),
      ["server", "--url", url, "--scenario", scenario, "--output-dir", outputDir],
      {
        cwd: ROOT,
        env: { ...process.env, PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}` },
        timeout: 120_000,
      },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/**
 * A loopback gateway that adds `Authorization: Bearer <token>` and forwards everything else as
 * it came — Host and Origin included, so DNS-rebinding checks still see the client's headers.
 */
export async function tokenGateway(
  target: string,
  token: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
