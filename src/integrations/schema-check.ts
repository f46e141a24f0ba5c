import type { Ajv, ValidateFunction } from "ajv";
import { lazyPackage } from "../lazy-package.ts";

/**
 * Arguments are checked against the operation's discovered JSON Schema before any call leaves
 * GIMO (ajv). Draft 2020-12 schemas (OpenAPI 3.1, newer MCP servers) get ajv's 2020 dialect, the
 * rest (draft-07, OpenAPI 3.0's subset) the default one. Unknown keywords (`nullable`, `example`,
 * `x-…`) are ignored, formats are checked. A schema ajv cannot compile refuses every call to its
 * operation: an operation whose arguments cannot be checked is not called.
 */
const options = { strict: false, allErrors: true, validateSchema: false } as const;
const ajv7 = lazyPackage<typeof import("ajv")>("ajv");
const ajv2020 = lazyPackage<typeof import("ajv/dist/2020.js")>("ajv/dist/2020.js");
const ajvFormats = lazyPackage<{ default: (ajv: Ajv) => Ajv }>("ajv-formats");
let built: { draft7: Ajv; draft2020: Ajv } | undefined;

/** Built on the first check: a server that never calls an integration never loads ajv (lazy-package.ts). */
function ajvs(): { draft7: Ajv; draft2020: Ajv } {
  const addFormats = ajvFormats().default;
  built ??= {
    draft7: addFormats(new (ajv7().Ajv)(options)),
    draft2020: addFormats(new (ajv2020().Ajv2020)(options) as unknown as Ajv),
  };
  return built;
}

export type ArgumentCheck = (args: unknown) => { ok: true } | { ok: false; problems: string };

/** Compiled checks by schema text; cleared (with ajv's own cache) when it grows past MAX_CACHED. */
const cache = new Map<string, ArgumentCheck>();
const MAX_CACHED = 2_000;

export function argumentCheck(schema: Record<string, unknown>): ArgumentCheck {
  const key = JSON.stringify(schema);
  const cached = cache.get(key);
  if (cached) return cached;
  const { draft7, draft2020 } = ajvs();
  if (cache.size >= MAX_CACHED) {
    cache.clear();
    draft7.removeSchema();
    draft2020.removeSchema();
  }
  const dialect = String(schema.$schema ?? "");
  const ajv = dialect.includes("2020-12") || dialect.includes("2019-09") ? draft2020 : draft7;
  const { $schema: _, $id: __, ...body } = schema;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(body);
  } catch (error) {
    const message = `its input schema cannot be compiled (${(error as Error).message.slice(0, 300)})`;
    const refuse: ArgumentCheck = () => ({ ok: false, problems: message });
    cache.set(key, refuse);
    return refuse;
  }
  const check: ArgumentCheck = (args) => {
    if (validate(args)) return { ok: true };
    const problems = (validate.errors ?? [])
      .slice(0, 10)
      .map((e) => `${e.instancePath || "(arguments)"} ${e.message ?? "is invalid"}`)
      .join("; ");
    return { ok: false, problems };
  };
  cache.set(key, check);
  return check;
}
