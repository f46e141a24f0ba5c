import type { Envelope } from "./vault-crypto.ts";
import { isEnvelope } from "./vault-crypto.ts";

/**
 * A literal secret sealed for storage: `gimo-sealed:v1:` + base64url of a vault envelope
 * (AES-256-GCM under the vault's key, vault-crypto.ts). Configuration that holds a secret as a
 * value rather than a `${VAR}` reference stores it this way; only the vault can open it again.
 * The text contains no `${`, so it is never taken for a reference.
 */
export const SEALED_PREFIX = "gimo-sealed:v1:";

const referencePattern = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;

export function isSealed(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(SEALED_PREFIX);
}

/** A value that is a secret in clear: not empty, not sealed, and naming no `${VAR}`. */
export function isLiteralSecret(value: unknown): value is string {
  return typeof value === "string" && value !== "" && !isSealed(value) && !referencePattern.test(value);
}

export function encodeSealed(envelope: Envelope): string {
  return `${SEALED_PREFIX}${Buffer.from(JSON.stringify(envelope)).toString("base64url")}`;
}

/** The envelope inside a sealed value, or undefined when it is not one. */
export function decodeSealed(value: string): Envelope | undefined {
  if (!isSealed(value)) return undefined;
  try {
    const envelope: unknown = JSON.parse(
      Buffer.from(value.slice(SEALED_PREFIX.length), "base64url").toString(),
    );
    return isEnvelope(envelope) ? envelope : undefined;
  } catch {
    return undefined;
  }
}
