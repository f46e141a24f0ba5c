import { performance } from "node:perf_hooks";
import type { CallOutcome, CallStatus, IntegrationConfig } from "../contract/integration.ts";
import { isGimoError, notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import type { CallAnswer } from "../integrations/client.ts";
import {
  allowedIn,
  clipForModel,
  type StoredAllow,
  type StoredOperation,
} from "../integrations/operations.ts";
import { argumentCheck } from "../integrations/schema-check.ts";
import { SecretMissing } from "../secrets/references.ts";
import type { IntegrationsTable } from "../store/schema.ts";
import type { AppContext } from "./context.ts";
import { assertNoPanic } from "./integration-records.ts";
import type { IntegrationService } from "./integrations.ts";

/**
 * The one gateway every integration call goes through — the executor agent's (via the runner
 * protocol), the chat planner's, and an admin's test call:
 *
 *   integration known ─▶ operation discovered ─▶ allow-listed for the caller's project (a test
 *   call by an admin may try any discovered operation) ─▶ arguments valid against the discovered
 *   JSON Schema (ajv) ─▶ not in panic mode ─▶ secrets resolved ─▶ the call, under the
 *   integration's timeout, with every address checked and the answer capped (integrations/net.ts)
 *   ─▶ the answer redacted and clipped for a model ─▶ an `integration.called` event (name,
 *   operation, caller, status, duration, HTTP status — never the arguments or the answer).
 *
 * It never throws at its caller for what the service or the caller's arguments did: every end is
 * a `CallOutcome` with a status, which a model reads as a tool result. Panic mode is the one
 * exception: the call is refused with `panic_mode` (423), as every mutation is. Refusals before the call
 * are audited too, so an agent probing what it may not call leaves a trace.
 */
export interface CallRequest {
  integration: string;
  operation: string;
  args: unknown;
  caller: "run" | "chat" | "test";
  projectId: string | null;
  runId: string | null;
  principal: Principal;
  signal?: AbortSignal;
}

export class IntegrationGateway {
  readonly #ctx: AppContext;
  readonly #integrations: IntegrationService;

  constructor(ctx: AppContext, integrations: IntegrationService) {
    this.#ctx = ctx;
    this.#integrations = integrations;
  }

  async call(req: CallRequest): Promise<CallOutcome> {
    const started = performance.now();
    const row = await this.#integrations.rowByName(req.integration);
    // No such integration (never registered, or deleted since its tools were listed): 404, like any
    // resource a request names that does not exist; the agent and the chat show the model a failed
    // tool result. Everything past this point is an audited outcome.
    if (!row) throw notFound("integration", req.integration);
    const end = (status: CallStatus, content: string, httpStatus?: number) =>
      this.#audit(req, row, started, status, this.#ctx.redactor.redact(content), httpStatus);

    const op = (JSON.parse(row.operations) as StoredOperation[]).find((o) => o.name === req.operation);
    if (!op) return end("refused", `${row.name} has no discovered operation ${req.operation}`);
    const allowlist = JSON.parse(row.allowlist) as StoredAllow[];
    if (req.caller !== "test" && !(req.projectId && allowedIn(allowlist, op.name, req.projectId)))
      return end("refused", `${row.name}.${op.name} is not allow-listed for this project`);
    const args = req.args ?? {};
    if (typeof args !== "object" || Array.isArray(args))
      return end("invalid_arguments", "the arguments must be a JSON object");
    const check = argumentCheck(op.input_schema)(args);
    if (!check.ok)
      return end("invalid_arguments", `invalid arguments for ${row.name}.${op.name}: ${check.problems}`);
    try {
      await assertNoPanic(this.#ctx.store.db);
    } catch (error) {
      // Panic mode refuses like every mutation (423; a runner stops), after recording the refusal.
      await end("refused", (error as Error).message);
      throw error;
    }

    const config = JSON.parse(row.config) as IntegrationConfig;
    const timeout = AbortSignal.timeout(config.timeout_ms);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let answer: CallAnswer;
    try {
      const resolved = await this.#integrations.resolve(row.id, row.name, row.kind, config);
      answer = await this.#integrations.client.invoke(resolved, op, args as Record<string, unknown>, signal);
    } catch (error) {
      const { status, message } = classify(error, timeout, config);
      return end(status, `${row.name}.${op.name}: ${message}`);
    }
    return end(answer.ok ? "ok" : "error", answer.text, answer.httpStatus);
  }

  async #audit(
    req: CallRequest,
    row: IntegrationsTable,
    started: number,
    status: CallStatus,
    content: string,
    httpStatus: number | undefined,
  ): Promise<CallOutcome> {
    const duration = Math.round(performance.now() - started);
    // The call happened (or was refused): its record is written even if panic mode came on meanwhile.
    await this.#ctx.store.write(
      req.principal,
      async (w) => {
        w.emit("integration.called", row.id, {
          name: row.name,
          operation: req.operation,
          caller: req.caller,
          run_id: req.runId,
          project_id: req.projectId,
          status,
          duration_ms: duration,
          http_status: httpStatus ?? null,
        });
      },
      { allowInPanic: true },
    );
    return {
      ok: status === "ok",
      status,
      integration: row.name,
      operation: req.operation,
      duration_ms: duration,
      ...(httpStatus !== undefined ? { http_status: httpStatus } : {}),
      content: clipForModel(content),
    };
  }
}

/** What went wrong, in the gateway's words; the error and its causes are looked through. */
function classify(
  error: unknown,
  timeout: AbortSignal,
  config: IntegrationConfig,
): { status: CallStatus; message: string } {
  if (timeout.aborted) return { status: "timeout", message: `no answer within ${config.timeout_ms} ms` };
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  const names = chain.map((e) => e.name);
  const text = chain.map((e) => e.message).join(": ");
  if (names.includes("AddressRefused")) return { status: "refused", message: text };
  if (names.includes("ResponseTooLarge") || /larger than|exceeded maximum size/.test(text))
    return { status: "too_large", message: `the answer is larger than ${config.max_response_bytes} bytes` };
  if (error instanceof SecretMissing) return { status: "unavailable", message: error.message };
  if (isGimoError(error) && error.code === "unavailable")
    return { status: "unavailable", message: error.message };
  if (/path parameter/.test(text)) return { status: "invalid_arguments", message: text };
  return { status: "unavailable", message: text || String(error) };
}
