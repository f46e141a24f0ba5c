import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

/**
 * Arguments are checked against the operation's discovered JSON Schema before any call leaves
 * GIMO (ajv). Draft 2020-12 schemas (OpenAPI 3.1, newer MCP servers) get ajv's 2020 dialect, the
 * rest (draft-07, OpenAPI 3.0's subset) the default one. Unknown keywords (`nullable`, `example`,
 * `x-…`) are ignored, formats are checked. A schema ajv cannot compile refuses every call to its
 * operation: an operation whose arguments cannot be checked is not called.
 */
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const options = { strict: false, allErrors: true, validateSchema: false } as const;
const draft7 = addFormats(new Ajv(options));
const draft2020 = addFormats(new Ajv2020(options) as unknown as Ajv);

export type ArgumentCheck = (args: unknown) => { ok: true } | { ok: false; problems: string };

/** Compiled checks by schema text; cleared (with ajv's own cache) when it grows past MAX_CACHED. */
const cache = new Map<string, ArgumentCheck>();
const MAX_CACHED = 2_000;

export function argumentCheck(schema: Record<string, unknown>): ArgumentCheck {
  const key = JSON.stringify(schema);
  const cached = cache.get(key);
  if (cached) return cached;
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
