import { BlockList, isIP } from "node:net";
import { canonicalAddress } from "./egress-policy.ts";

/**
 * Where an integration call may connect (SPEC §7.6). GIMO resolves the name itself and checks
 * every address it resolves to — and again for each redirect — then connects to exactly the
 * addresses it checked (integrations/net.ts), so a name cannot be re-pointed between the check
 * and the connection.
 *
 *   metadata     cloud metadata services (169.254.169.254, fd00:ec2::254, 100.100.100.200,
 *                192.0.0.192, metadata.google.internal …)          never
 *   link_local   169.254.0.0/16, fe80::/10                           never
 *   reserved     unspecified, multicast, broadcast, 240/4, 192.0.0/24 never
 *   private      10/8, 172.16/12, 192.168/16, 100.64/10, 127/8, ::1,
 *                fc00::/7, fec0::/10                                  only with `allow_private`
 *   public       everything else                                      always
 *
 * IPv6 spellings of an IPv4 address (mapped, NAT64) are judged as that IPv4 address
 * (egress-policy's `canonicalAddress`).
 */
export type AddressClass = "public" | "private" | "link_local" | "metadata" | "reserved";

/** Names of cloud metadata services, refused before any lookup. */
const METADATA_HOSTS = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.azure.internal",
]);

/** Metadata addresses outside the link-local ranges (AWS IPv6, Alibaba, Oracle). */
const METADATA_ADDRESSES = new Set(["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"]);

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet("169.254.0.0", 16, "ipv4");
LINK_LOCAL.addSubnet("fe80::", 10, "ipv6");

const RESERVED = new BlockList();
// biome-ignore format: a table
for (const [net, prefix] of [["0.0.0.0", 8], ["192.0.0.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4]] as const)
  RESERVED.addSubnet(net, prefix, "ipv4");
RESERVED.addSubnet("::", 128, "ipv6");
RESERVED.addSubnet("ff00::", 8, "ipv6");

const PRIVATE = new BlockList();
// biome-ignore format: a table
for (const [net, prefix] of [
  ["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["100.64.0.0", 10], ["127.0.0.0", 8],
] as const) PRIVATE.addSubnet(net, prefix, "ipv4");
// biome-ignore format: a table
for (const [net, prefix] of [["::1", 128], ["fc00::", 7], ["fec0::", 10]] as const)
  PRIVATE.addSubnet(net, prefix, "ipv6");

export function classifyAddress(address: string): AddressClass {
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return "reserved";
  if (METADATA_ADDRESSES.has(canonical)) return "metadata";
  const family = isIP(canonical) === 4 ? "ipv4" : "ipv6";
  if (LINK_LOCAL.check(canonical, family)) return "link_local";
  if (RESERVED.check(canonical, family)) return "reserved";
  if (PRIVATE.check(canonical, family)) return "private";
  return "public";
}

/** A cloud metadata service's name (lower-cased, without a trailing dot). */
export function isMetadataHost(host: string): boolean {
  return METADATA_HOSTS.has(host.toLowerCase().replace(/\.$/, ""));
}

export interface AddressVerdict {
  allowed: boolean;
  /** Why, in words for the refusal. */
  reason: string;
}

/** The verdict on one resolved (or literal) address of `host`. */
export function admitAddress(host: string, address: string, allowPrivate: boolean): AddressVerdict {
  const kind = classifyAddress(address);
  if (kind === "public") return { allowed: true, reason: "public address" };
  if (kind === "private" && allowPrivate) return { allowed: true, reason: "private address, allowed" };
  const what: Record<Exclude<AddressClass, "public">, string> = {
    metadata: "a cloud metadata address",
    link_local: "a link-local address",
    reserved: "a reserved address",
    private: "a private or loopback address (set allow_private: true to allow it)",
  };
  const at = host === address ? `${address} is` : `${host} resolves to ${address},`;
  return { allowed: false, reason: `${at} ${what[kind]}` };
}

/** The verdict on a host name before it is resolved: metadata names never pass. */
export function admitHostName(host: string): AddressVerdict {
  return isMetadataHost(host)
    ? { allowed: false, reason: `${host} is a cloud metadata service` }
    : { allowed: true, reason: "name" };
}
