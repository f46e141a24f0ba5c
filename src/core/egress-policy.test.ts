import { describe, expect, it } from "vitest";
import { admitsAddress, admitsName, isPublicAddress } from "./egress-policy.ts";

describe("isPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "127.9.9.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:0:0:0:0:7f00:1",
    "0:0:0:0:0:ffff:7f00:1",
    "fe80::1%eth0",
    "::127.0.0.1",
    "not an address",
  ])("%s is not public", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    "1.1.1.1",
    "8.8.8.8",
    "172.32.0.1",
    "151.101.1.69",
    "2606:4700:4700::1111",
    "::ffff:1.1.1.1",
    "2606:4700:4700::1111%eth0", // the zone is dropped, not the address refused
    "2606:4700::ffff:7f00:1", // ends like ::ffff:127.0.0.1 but embeds nothing: the prefix is anchored
  ])("%s is public", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe("the egress rules", () => {
  it("with no allowlist: any name, public addresses only", () => {
    const rules = { allow: [] };
    expect(admitsName(rules, "registry.npmjs.org", 443).allowed).toBe(true);
    expect(admitsAddress(rules, "registry.npmjs.org", 443, "104.16.1.1").allowed).toBe(true);
    expect(admitsAddress(rules, "evil.example", 443, "127.0.0.1")).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/loopback, private or reserved/),
    });
    expect(admitsAddress(rules, "metadata", 80, "169.254.169.254").allowed).toBe(false);
  });

  it("with an allowlist: only the names it lists, by exact name, *.domain and port", () => {
    const rules = { allow: ["registry.npmjs.org", "*.pythonhosted.org", "pypi.org:443"] };
    expect(admitsName(rules, "registry.npmjs.org", 443).allowed).toBe(true);
    expect(admitsName(rules, "REGISTRY.NPMJS.ORG.", 80).allowed).toBe(true);
    expect(admitsName(rules, "files.pythonhosted.org", 443).allowed).toBe(true);
    expect(admitsName(rules, "a.b.pythonhosted.org", 443).allowed).toBe(true);
    expect(admitsName(rules, "pythonhosted.org", 443).allowed).toBe(false);
    expect(admitsName(rules, "evilpythonhosted.org", 443).allowed).toBe(false);
    expect(admitsName(rules, "pypi.org", 443).allowed).toBe(true);
    expect(admitsName(rules, "pypi.org", 8080).allowed).toBe(false);
    expect(admitsName(rules, "github.com", 443)).toMatchObject({
      allowed: false,
      reason: "github.com:443 is not in the project's egress allowlist",
    });
    expect(admitsName(rules, "registry.npmjs.org", 0).allowed).toBe(false);
  });

  it("the host's own addresses are never public, even a public one", () => {
    const rules = { allow: [], hostAddresses: ["203.0.114.7", "2a01:db9::1"] };
    expect(admitsAddress(rules, "me.example", 9325, "203.0.114.7")).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/GIMO's own host/),
    });
    expect(admitsAddress(rules, "me.example", 9325, "2A01:DB9::1").allowed).toBe(false);
    for (const spelling of [
      "::ffff:203.0.114.7",
      "::ffff:cb00:7207",
      "2a01:db9:0:0:0:0:0:1",
      "2a01:0db9::0001",
    ])
      expect(admitsAddress(rules, "me.example", 9325, spelling).allowed, spelling).toBe(false);
    expect(admitsAddress(rules, "other.example", 443, "203.0.114.8").allowed).toBe(true);
  });

  it("an exact entry may reach a private address; a wildcard may not", () => {
    const rules = { allow: ["registry.internal", "*.corp.example"] };
    expect(admitsAddress(rules, "registry.internal", 443, "10.0.0.5").allowed).toBe(true);
    expect(admitsAddress(rules, "git.corp.example", 443, "10.0.0.6").allowed).toBe(false);
    expect(admitsAddress(rules, "git.corp.example", 443, "93.184.216.34").allowed).toBe(true);
  });

  it("`always` hosts pass whatever the allowlist says, and may be private", () => {
    const rules = { allow: ["registry.npmjs.org"], always: ["127.0.0.1:11434"] };
    expect(admitsName(rules, "127.0.0.1", 11434).allowed).toBe(true);
    expect(admitsAddress(rules, "127.0.0.1", 11434, "127.0.0.1").allowed).toBe(true);
    expect(admitsName(rules, "127.0.0.1", 22).allowed).toBe(false);
    const open = { allow: [], always: ["api.anthropic.com"] };
    expect(admitsName(open, "pypi.org", 443).allowed).toBe(true);
  });

  // One condition each: every reason in words, the port's bounds, and how an entry is read.
  it.each([
    [{ allow: [] }, "pypi.org", 443, "any public host"],
    [{ allow: [], always: ["pypi.org"] }, "pypi.org", 443, "always allowed"],
    [{ allow: ["*.pythonhosted.org"] }, "files.pythonhosted.org", 443, "allowlisted (*.pythonhosted.org)"],
    [{ allow: [" PyPI.org:443 "] }, "pypi.org", 443, "allowlisted (pypi.org)"],
    [{ allow: [] }, "pypi.org", 1, "any public host"],
    [{ allow: [] }, "pypi.org", 65_535, "any public host"],
    [{ allow: [] }, "pypi.org", 0, "port 0 is not valid"],
    [{ allow: [] }, "pypi.org", 65_536, "port 65536 is not valid"],
    [{ allow: [] }, "pypi.org", 1.5, "port 1.5 is not valid"],
    [{ allow: ["pypi.org:https"] }, "pypi.org", 443, "pypi.org:443 is not in the project's egress allowlist"],
    [{ allow: ["evil:pypi.org"] }, "pypi.org", 443, "pypi.org:443 is not in the project's egress allowlist"],
  ] as const)("admitsName(%j, %s, %d): %s", (rules, host, port, reason) => {
    expect(admitsName(rules, host, port)).toEqual({ allowed: !/not/.test(reason), reason });
  });

  it.each([
    [
      { allow: ["registry.internal"] },
      "registry.internal",
      "10.0.0.5",
      "allowlisted by name (registry.internal)",
    ],
    [{ allow: [] }, "pypi.org", "151.101.1.69", "public address"],
  ] as const)("admitsAddress(%j, %s, %s): %s", (rules, host, address, reason) => {
    expect(admitsAddress(rules, host, 443, address)).toEqual({ allowed: true, reason });
  });
});
