import { describe, expect, it } from "vitest";
import { admitAddress, admitHostName, classifyAddress } from "./address-guard.ts";

describe("integration address guard", () => {
  it.each([
    ["169.254.169.254", "metadata"],
    ["::ffff:169.254.169.254", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["192.0.0.192", "metadata"],
    ["169.254.10.1", "link_local"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["febf::1", "link_local"],
    ["0.0.0.0", "reserved"],
    ["::", "reserved"],
    ["224.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["ff02::1", "reserved"],
    ["not an address", "reserved"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["127.0.0.1", "private"],
    ["127.8.9.10", "private"],
    ["100.64.0.1", "private"],
    ["::1", "private"],
    ["::ffff:127.0.0.1", "private"],
    ["64:ff9b::a00:1", "private"],
    ["fd12:3456::1", "private"],
    ["fc00::1", "private"],
    ["fec0::1", "private"],
    ["172.32.0.1", "public"],
    ["8.8.8.8", "public"],
    ["2606:4700::1111", "public"],
    ["100.128.0.1", "public"],
  ])("%s is %s", (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it("admits private addresses only with allow_private, never link-local or metadata", () => {
    expect(admitAddress("10.0.0.1", "10.0.0.1", false).allowed).toBe(false);
    expect(admitAddress("10.0.0.1", "10.0.0.1", true).allowed).toBe(true);
    expect(admitAddress("::1", "::1", true).allowed).toBe(true);
    expect(admitAddress("x", "169.254.169.254", true)).toEqual({
      allowed: false,
      reason: "x resolves to 169.254.169.254, a cloud metadata address",
    });
    expect(admitAddress("fe80::1", "fe80::1", true).allowed).toBe(false);
    expect(admitAddress("fd00:ec2::254", "fd00:ec2::254", true).allowed).toBe(false);
    expect(admitAddress("0.0.0.0", "0.0.0.0", true).allowed).toBe(false);
    expect(admitAddress("a.example", "93.184.215.14", false).allowed).toBe(true);
    expect(admitAddress("localhost", "127.0.0.1", false).reason).toContain("allow_private");
  });

  it("refuses metadata service names before resolving them", () => {
    for (const host of ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata", "metadata.goog"])
      expect(admitHostName(host).allowed, host).toBe(false);
    expect(admitHostName("metadata.example.com").allowed).toBe(true);
  });
});
