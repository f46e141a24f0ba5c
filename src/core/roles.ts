/**
 * Roles (SPEC §2) and the access level each route declares.
 *
 *   actions  — reads everything that is not secret
 *   operator — reads; creates and moves tasks, drafts, approvals and runs
 *   admin    — everything
 *   runner   — only the runner protocol
 *
 * A route declares one access level; `roleAllows` is the single table that decides.
 */
export const roles = ["actions", "operator", "admin", "runner"] as const;
export type Role = (typeof roles)[number];

export const accessLevels = ["public", "any", "read", "secret_read", "operator", "admin", "runner"] as const;
export type Access = (typeof accessLevels)[number];

const allowed: Record<Exclude<Access, "public">, readonly Role[]> = {
  any: ["actions", "operator", "admin", "runner"],
  read: ["actions", "operator", "admin"],
  secret_read: ["admin"],
  operator: ["operator", "admin"],
  admin: ["admin"],
  runner: ["runner", "admin"],
};

export function roleAllows(role: Role, access: Access): boolean {
  return access === "public" || allowed[access].includes(role);
}

/** Who did something: recorded on every event and checked by `require_distinct_approver`. */
export interface Principal {
  /** Stable identity: `env:<role>` for environment tokens, the token's name for minted ones. */
  actor: string;
  role: Role;
  tokenId: string | null;
}

export const systemPrincipal: Principal = { actor: "system", role: "admin", tokenId: null };

/**
 * Actors GIMO itself uses: `env:<role>` (environment tokens), `system` (its own work),
 * `telegram:<user id>` (a person allowed by TELEGRAM_ALLOWED_USERS) and
 * `embedded-runner` (the runner inside `gimo serve`). A minted token's actor is its name, so names
 * starting with `env:`, `system` or `telegram:` (any case) and the embedded runner's name are reserved: no
 * token can pass for one of them in the audit log or in `require_distinct_approver`.
 */
const reservedPrefixes = ["env:", "system", "telegram:"];
const reservedNames = ["embedded-runner"];

export function isReservedActorName(name: string): boolean {
  const lower = name.toLowerCase();
  return reservedPrefixes.some((p) => lower.startsWith(p)) || reservedNames.includes(lower);
}
