import { z } from "@hono/zod-openapi";

/** The server's planner and executor as clients see them (keys never shown), and their health. */

const ConfiguredProvider = z
  .object({
    type: z.string(),
    base_url: z.string().optional(),
    model: z.string(),
    api_key: z.string().optional().openapi({ description: "the ${VAR} reference, or [redacted]" }),
    api_key_set: z.boolean(),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .nullable();
export const ProvidersView = z
  .object({ planner: ConfiguredProvider, executor: ConfiguredProvider })
  .openapi("ProvidersView");
const ProviderHealth = z
  .object({
    type: z.string(),
    model: z.string(),
    ok: z.boolean(),
    latency_ms: z.number(),
    detail: z.string().optional(),
  })
  .nullable();
export const ProvidersHealth = z
  .object({ planner: ProviderHealth, executor: ProviderHealth })
  .openapi("ProvidersHealth");
