import { type Access, type Role, roleAllows } from "./roles.ts";

/**
 * Which events a reader's streams carry (SPEC §2: the `actions` role's "event streams carry no
 * token, credential or audit-only events").
 *
 * The rule: an event is shown to a role that may read what the event is about. An event's family
 * is the part of its type before the first dot (`token.created` → `token`), and each family has
 * the access level of the routes that read that kind of thing:
 *
 *   project plan task draft run runner provider panic chat
 *   integration                                       → read   (their GETs are `read`)
 *   token credential                                  → secret_read (`/ops/tokens`, `/ops/requests`)
 *   anything else                                     → secret_read (audit-only: only `/ops/audit`
 *                                                                    shows it)
 *
 * Unknown families are audit-only, so a new kind of event is hidden from non-admins until it is
 * placed here on purpose. `operator` may not read tokens or credentials either, so the rule hides
 * them from its streams too.
 *
 * Actor identities are not reduced in the events a role does see: an actor (`env:<role>`, a
 * minted token's name, `system`) is attribution, the same name the resources themselves show to
 * every reader (a draft's `created_by`, an approval's `approved_by`, a plan's `updated_by`).
 * Hiding it in events only would protect nothing; what is secret — which tokens exist, their
 * roles, their revocation, which credentials were provided — lives in the hidden families.
 */
const familyAccess: Record<string, Access> = {
  project: "read",
  plan: "read",
  task: "read",
  draft: "read",
  run: "read",
  runner: "read",
  provider: "read",
  panic: "read",
  chat: "read",
  integration: "read",
  token: "secret_read",
  credential: "secret_read",
};

export function eventAccess(type: string): Access {
  const dot = type.indexOf(".");
  const family = dot < 0 ? type : type.slice(0, dot);
  return Object.hasOwn(familyAccess, family) ? (familyAccess[family] as Access) : "secret_read";
}

export function eventVisibleTo(role: Role, type: string): boolean {
  return roleAllows(role, eventAccess(type));
}
