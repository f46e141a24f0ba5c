import { describe, expect, it } from "vitest";
import { eventAccess, eventVisibleTo } from "./event-visibility.ts";
import { roles } from "./roles.ts";

describe("event visibility", () => {
  it("shows readable families to readers, token/credential/unknown ones to admins only", () => {
    const shown = (type: string) => roles.filter((role) => eventVisibleTo(role, type));
    for (const type of [
      "draft.approved",
      "run.logs",
      "task.status",
      "project.updated",
      "panic.on",
      "provider.updated",
    ])
      expect({ type, roles: shown(type) }).toEqual({ type, roles: ["actions", "operator", "admin"] });
    for (const type of [
      "token.created",
      "token.revoked",
      "credential.provided",
      "audit.note",
      "tokens",
      "x",
      "",
    ])
      expect({ type, roles: shown(type) }).toEqual({ type, roles: ["admin"] });
    // A family is the text before the first dot, exactly: no prefix tricks.
    expect(shown("drafts.created")).toEqual(["admin"]);
    expect(shown("toString.x")).toEqual(["admin"]);
  });

  it.each([
    ["plan.updated", "read"],
    ["runner.registered", "read"],
    ["chat.message", "read"],
    ["integration.called", "read"],
    ["telegram.refused", "secret_read"],
    ["run", "read"],
    ["token", "secret_read"],
    ["tokenx.created", "secret_read"],
    [".run", "secret_read"],
    ["run.", "read"],
    ["", "secret_read"],
  ] as const)("the family of %j is read at %s", (type, access) => {
    expect(eventAccess(type)).toBe(access);
  });
});
