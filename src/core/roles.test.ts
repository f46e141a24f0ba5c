import { describe, expect, it } from "vitest";
import {
  type Access,
  accessLevels,
  isReservedActorName,
  type Role,
  roleAllows,
  roles,
  systemPrincipal,
} from "./roles.ts";

/** SPEC §2, written out by hand: who may do what. Every cell is checked, so no entry can drift. */
const table: Record<Access, Role[]> = {
  public: ["actions", "operator", "admin", "runner"],
  any: ["actions", "operator", "admin", "runner"],
  read: ["actions", "operator", "admin"],
  secret_read: ["admin"],
  operator: ["operator", "admin"],
  admin: ["admin"],
  runner: ["runner", "admin"],
};

describe("roles", () => {
  it.each(accessLevels.flatMap((access) => roles.map((role) => [access, role] as const)))(
    "%s is open to %s exactly when SPEC §2 says so",
    (access, role) => {
      expect(roleAllows(role, access)).toBe(table[access].includes(role));
    },
  );

  it("GIMO's own work is an admin named system, with no token", () => {
    expect(systemPrincipal).toEqual({ actor: "system", role: "admin", tokenId: null });
  });

  it.each([
    ["env:admin", true],
    ["ENV:operator", true],
    ["env:", true],
    ["system", true],
    ["telegram:12345", true],
    ["Telegram:1", true],
    ["telegram-bot", false],
    ["System-bot", true],
    ["systemd", true],
    ["embedded-runner", true],
    ["Embedded-Runner", true],
    ["embedded-runner-2", false],
    ["my-env:bot", false],
    ["ci-system", false],
    ["alice", false],
    ["", false],
  ])("the actor name %j is reserved: %s", (name, reserved) => {
    expect(isReservedActorName(name)).toBe(reserved);
  });
});
