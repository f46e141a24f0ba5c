import { GimoError } from "../core/errors.ts";

/**
 * `${VAR}` references in configuration (SPEC §8). A configuration stores references, never values;
 * `resolveSecrets` swaps them for values at call time — from the environment first, then the
 * vault — and the resolved copy lives only as long as the call that needs it.
 *
 * A reference is `${NAME}` with NAME = letter or `_`, then letters, digits, `_`. Anything else
 * (`$VAR`, `${lower-case}`) is left as written.
 */
const reference = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Where a secret's value may come from besides the environment: the vault, narrowed. */
export interface SecretSource {
  get(name: string): Promise<string | undefined>;
}

export type Env = Record<string, string | undefined>;

/** A configuration refers to variables that are set nowhere. Names them; never a value. */
export class SecretMissing extends GimoError {
  readonly variables: string[];

  constructor(variables: string[]) {
    const list = variables.join(", ");
    super(
      "unavailable",
      `secret${variables.length > 1 ? "s" : ""} ${list} ${variables.length > 1 ? "are" : "is"} not set: ` +
        "set the environment variable or provide it as a credential request (PUT /ops/requests/{id})",
      { variables },
    );
    this.name = "SecretMissing";
    this.variables = variables;
  }
}

/** Every variable `value` refers to, at any depth (strings in objects and arrays), sorted, once each. */
export function findReferences(value: unknown): string[] {
  const found = new Set<string>();
  walkStrings(value, (text) => {
    for (const match of text.matchAll(reference)) if (match[1]) found.add(match[1]);
  });
  return [...found].sort();
}

/**
 * A deep copy of `value` with every `${VAR}` replaced by its value (environment first, then
 * `vault`). Throws `SecretMissing` naming every variable that is set nowhere. An empty environment
 * variable counts as unset.
 */
export async function resolveSecrets<T>(value: T, env: Env, vault?: SecretSource): Promise<T> {
  return (await resolveWithSecrets(value, env, vault)).value;
}

/** As `resolveSecrets`, also returning the values it used, to register with a log redactor. */
export async function resolveWithSecrets<T>(
  value: T,
  env: Env,
  vault?: SecretSource,
): Promise<{ value: T; secrets: string[] }> {
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const name of findReferences(value)) {
    const fromEnv = env[name];
    const found = fromEnv !== undefined && fromEnv !== "" ? fromEnv : await vault?.get(name);
    if (found === undefined || found === "") missing.push(name);
    else values.set(name, found);
  }
  if (missing.length > 0) throw new SecretMissing(missing);
  const resolved = mapStrings(value, (text) =>
    text.replace(reference, (_, name: string) => values.get(name) ?? ""),
  );
  return { value: resolved as T, secrets: [...values.values()] };
}

function walkStrings(value: unknown, visit: (text: string) => void, seen = new Set<unknown>()): void {
  if (typeof value === "string") {
    visit(value);
    return;
  }
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  for (const item of Array.isArray(value) ? value : Object.values(value)) walkStrings(item, visit, seen);
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
}
