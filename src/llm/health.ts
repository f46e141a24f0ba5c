import type { HealthResult } from "./port.ts";

/**
 * Provider health: one cheap authenticated `GET …/models`, no tokens spent. `ok` means the server
 * answered 2xx; `detail` says what is off (status, connection error, model not listed). A local
 * server that lists its model under another name (llama.cpp lists the file) is still `ok`.
 */
export interface HealthProbe {
  url: string;
  headers: Record<string, string>;
  model: string;
  /** Model ids from the listing body (shapes differ per provider). */
  modelIds: (body: unknown) => string[];
  timeoutMs: number;
  redact: (text: string) => string;
  fetch?: typeof fetch;
}

export async function probeHealth(probe: HealthProbe, signal?: AbortSignal): Promise<HealthResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const timeout = AbortSignal.timeout(probe.timeoutMs);
  try {
    const response = await (probe.fetch ?? fetch)(probe.url, {
      headers: probe.headers,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const body = await response.text();
    if (!response.ok) {
      return {
        ok: false,
        latency_ms: latency(),
        detail: probe.redact(`HTTP ${response.status}${hint(response.status)}`),
      };
    }
    let ids: string[] = [];
    try {
      ids = probe.modelIds(JSON.parse(body));
    } catch {
      // A listing we cannot read still proves the server is up.
    }
    const listed = ids.length === 0 || ids.some((id) => id === probe.model || id.endsWith(`/${probe.model}`));
    return listed
      ? { ok: true, latency_ms: latency() }
      : { ok: true, latency_ms: latency(), detail: `model ${probe.model} is not in the server's model list` };
  } catch (error) {
    const why = timeout.aborted ? `no answer within ${probe.timeoutMs} ms` : connectionProblem(error);
    return { ok: false, latency_ms: latency(), detail: probe.redact(why) };
  }
}

function hint(status: number): string {
  if (status === 401 || status === 403) return ": the API key was refused";
  if (status === 404) return ": no model listing at this base_url";
  return "";
}

function connectionProblem(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return `cannot connect (${code})`;
    current = current.cause;
  }
  return `cannot connect (${error instanceof Error ? error.message : String(error)})`;
}

export const openAiModelIds = (body: unknown): string[] => idsOf(body, "data", "id");
export const anthropicModelIds = (body: unknown): string[] => idsOf(body, "data", "id");
export const geminiModelIds = (body: unknown): string[] => idsOf(body, "models", "name");

function idsOf(body: unknown, listKey: string, idKey: string): string[] {
  if (typeof body !== "object" || body === null) return [];
  const list = (body as Record<string, unknown>)[listKey];
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) => {
    const id =
      typeof item === "object" && item !== null ? (item as Record<string, unknown>)[idKey] : undefined;
    return typeof id === "string" ? [id] : [];
  });
}
