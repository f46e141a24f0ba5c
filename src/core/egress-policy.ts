import { BlockList, isIP } from "node:net";

/**
 * Where a sandboxed command with `network: true` may connect (SPEC §4.2). The command has no
 * network interface to the host at all; its only way out is GIMO's egress proxy, which asks this
 * policy about every connection, after resolving the name itself:
 *
 *  - with an empty allowlist, any host whose every address is public;
 *  - with an allowlist, only hosts it names — `host`, `host:port`, `*.domain` (subdomains of
 *    domain, at any depth, not domain itself), `*.domain:port` — and still only public addresses,
 *    except for an entry naming the host exactly: that is the admin saying "this one, wherever it
 *    is" (an internal registry, a local model server), so its private or loopback address is fine;
 *  - the `always` hosts in any case, like exact entries (an agent CLI's own model API).
 *
 * Not public: loopback, private (RFC 1918, ULA), link-local (cloud metadata at 169.254.169.254),
 * carrier-grade NAT, unspecified, multicast, reserved and documentation ranges, IPv6 forms that
 * embed one of those (IPv4-mapped, NAT64) — and the host's own addresses (`hostAddresses`), even a
 * public one: a service of the host listening on all interfaces is not "the internet".
 */
export interface EgressDecision {
  allowed: boolean;
  /** Why, in words for the command's output and the run's log. */
  reason: string;
}

const NOT_PUBLIC = new BlockList();
// biome-ignore format: a table
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) NOT_PUBLIC.addSubnet(net, prefix, "ipv4");
// biome-ignore format: a table
for (const [net, prefix] of [
  ["::", 96], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["2001:db8::", 32],
  ["100::", 64], ["2001::", 32], ["2002::", 16],
] as const) NOT_PUBLIC.addSubnet(net, prefix, "ipv6");

export function isPublicAddress(address: string): boolean {
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return false;
  if (isIP(canonical) === 4) return !NOT_PUBLIC.check(canonical, "ipv4");
  const embedded = embeddedIpv4(canonical);
  if (embedded !== undefined) return isPublicAddress(embedded);
  return !NOT_PUBLIC.check(canonical, "ipv6");
}

/**
 * One spelling per address, so addresses compare as strings: IPv4 as is, IPv6 lower-case and
 * compressed as the URL standard writes it (`2001:db8:0:0::1` → `2001:db8::1`, `::ffff:1.2.3.4` →
 * `::ffff:102:304`), an IPv6 address that embeds an IPv4 one (mapped, NAT64) as that IPv4 address;
 * undefined for what is not an address.
 */
export function canonicalAddress(address: string): string | undefined {
  const bare = address.replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return undefined;
  const v6 = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return embeddedIpv4(v6) ?? v6;
}

/** The IPv4 address inside a canonical IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) one. */
function embeddedIpv4(canonical: string): string | undefined {
  const match = /^(?:::ffff|64:ff9b:):([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!match) return undefined;
  const hi = Number.parseInt(match[1] ?? "0", 16);
  const lo = Number.parseInt(match[2] ?? "0", 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

export interface EgressRules {
  /** The project's allowlist; empty admits any public host. */
  allow: readonly string[];
  /** Exact `host[:port]` entries admitted whatever the allowlist says. */
  always?: readonly string[];
  /** The addresses of the host GIMO runs on. */
  hostAddresses?: readonly string[];
}

interface Entry {
  host: string;
  wildcard: boolean;
  port: number | undefined;
}

function parseEntry(entry: string): Entry {
  const m = /^(\*\.)?([^:]+)(?::(\d+))?$/.exec(entry.trim().toLowerCase());
  return { wildcard: Boolean(m?.[1]), host: m?.[2] ?? "", port: m?.[3] ? Number(m[3]) : undefined };
}

/** Which allowlist entry admits `host:port` by name; undefined when none does. */
function matching(allow: readonly string[], host: string, port: number): Entry | undefined {
  const name = host.toLowerCase().replace(/\.$/, "");
  for (const entry of allow.map(parseEntry)) {
    if (entry.port !== undefined && entry.port !== port) continue;
    if (entry.wildcard ? name.endsWith(`.${entry.host}`) : name === entry.host) return entry;
  }
  return undefined;
}

/** The verdict on the name alone, before resolving it: refused when the allowlist does not name it. */
export function admitsName(rules: EgressRules, host: string, port: number): EgressDecision {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return refuse(`port ${port} is not valid`);
  if (matching(rules.always ?? [], host, port)) return { allowed: true, reason: "always allowed" };
  const { allow } = rules;
  if (allow.length === 0) return { allowed: true, reason: "any public host" };
  const entry = matching(allow, host, port);
  return entry
    ? { allowed: true, reason: `allowlisted (${entry.wildcard ? "*." : ""}${entry.host})` }
    : refuse(`${host}:${port} is not in the project's egress allowlist`);
}

/** The verdict on one resolved address of a name `admitsName` let through. */
export function admitsAddress(
  rules: EgressRules,
  host: string,
  port: number,
  address: string,
): EgressDecision {
  const entry = matching([...(rules.always ?? []), ...rules.allow], host, port);
  if (entry && !entry.wildcard) return { allowed: true, reason: `allowlisted by name (${entry.host})` };
  const publicAddress = isPublicAddress(address);
  const canonical = canonicalAddress(address);
  const own = rules.hostAddresses?.some((a) => canonicalAddress(a) === canonical) ?? false;
  if (publicAddress && !own) return { allowed: true, reason: "public address" };
  return refuse(
    `${host} resolves to ${address}, ${publicAddress ? "an address of GIMO's own host" : "a loopback, private or reserved address"}; only an allowlist entry naming the host exactly may reach one`,
  );
}

function refuse(reason: string): EgressDecision {
  return { allowed: false, reason };
}
