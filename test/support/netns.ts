import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";

/**
 * Separate hosts on one machine, for tests of a fleet across a network that can break: each host
 * is a network namespace with its own address on a private /24, joined to a bridge the test
 * creates by a veth pair. The machine itself (the root namespace) is the bridge's first address,
 * so a service started there on that address (the test's private PostgreSQL) is a host too.
 *
 *   const net = await createNetwork();            // bridge up, 10.N.M.1/24
 *   const a = await net.addHost("a");             // namespace + veth, 10.N.M.2
 *   spawn(...a.exec, "node", ...)                 // a process on host a
 *   await a.linkDown(); await a.linkUp();         // cut and restore its cable
 *   await net.destroy();                          // kills what runs in the namespaces, removes all
 *
 * Names carry this process's pid (`gn<pid>…`), so parallel tests never collide, and namespaces a
 * dead test process left behind are removed at the next start. Needs root and iproute2.
 */
export interface Host {
  name: string;
  /** The namespace's name. */
  ns: string;
  address: string;
  /** The command prefix that runs a program on this host: `ip netns exec NS`. */
  exec: string[];
  linkDown(): Promise<void>;
  linkUp(): Promise<void>;
}

export interface Network {
  /** The bridge's address: the machine itself, as seen from the hosts. */
  gateway: string;
  /** The hosts' subnet in CIDR form. */
  subnet: string;
  addHost(name: string): Promise<Host>;
  /** Kills every process left in the namespaces and removes them and the bridge. Safe to call twice. */
  destroy(): Promise<void>;
}

const run = promisify(execFile);
const ip = (...args: string[]) => run("ip", args);
const OWN = `gn${process.pid.toString(36)}`;

/** Why no test network can be built here, or undefined when one can. */
export function networkUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  if (!["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].some(existsSync))
    return "iproute2 (ip) is missing";
  try {
    const probe = `${OWN}probe`;
    execFileSync("ip", ["netns", "add", probe], { stdio: "pipe" });
    execFileSync("ip", ["netns", "del", probe], { stdio: "pipe" });
  } catch (error) {
    return `cannot create a network namespace: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  return undefined;
}

export async function createNetwork(): Promise<Network> {
  await removeOrphans();
  const prefix = await freeSubnet();
  const bridge = `${OWN}br`;
  const namespaces: string[] = [];
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    for (const ns of namespaces) await removeNamespace(ns);
    await ip("link", "del", bridge).catch(() => {});
  };
  try {
    await ip("link", "add", bridge, "type", "bridge");
    await ip("addr", "add", `${prefix}.1/24`, "dev", bridge);
    await ip("link", "set", bridge, "up");
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    gateway: `${prefix}.1`,
    subnet: `${prefix}.0/24`,
    destroy,
    addHost: async (name) => {
      const n = namespaces.length;
      const ns = `${OWN}-${name}`;
      const outside = `${OWN}v${n}`;
      const inside = `${OWN}v${n}i`;
      const address = `${prefix}.${n + 2}`;
      namespaces.push(ns);
      await ip("netns", "add", ns);
      await ip("link", "add", outside, "type", "veth", "peer", "name", inside);
      await ip("link", "set", inside, "netns", ns);
      await ip("link", "set", outside, "master", bridge, "up");
      await ip("-n", ns, "addr", "add", `${address}/24`, "dev", inside);
      await ip("-n", ns, "link", "set", inside, "up");
      await ip("-n", ns, "link", "set", "lo", "up");
      return {
        name,
        ns,
        address,
        exec: ["ip", "netns", "exec", ns],
        linkDown: async () => {
          await ip("-n", ns, "link", "set", inside, "down");
        },
        linkUp: async () => {
          await ip("-n", ns, "link", "set", inside, "up");
        },
      };
    },
  };
}

async function removeNamespace(ns: string): Promise<void> {
  const pids = await ip("netns", "pids", ns).then(
    (r) => r.stdout.split(/\s+/).filter(Boolean),
    () => [],
  );
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  await ip("netns", "del", ns).catch(() => {}); // its veth end goes with it, and so the pair
}

/** Namespaces and bridges named after a test process that no longer exists. */
async function removeOrphans(): Promise<void> {
  const alive = (tag: string) => {
    try {
      process.kill(Number.parseInt(tag, 36), 0);
      return true;
    } catch {
      return false;
    }
  };
  const { stdout: nsList } = await ip("netns", "list");
  for (const m of nsList.matchAll(/^gn([0-9a-z]+)-\S+/gm))
    if (!alive(m[1] as string)) await removeNamespace(m[0]);
  const { stdout: links } = await ip("-o", "link", "show", "type", "bridge");
  for (const m of links.matchAll(/^\d+: gn([0-9a-z]+)br[:@]/gm))
    if (!alive(m[1] as string)) await ip("link", "del", `gn${m[1]}br`).catch(() => {});
}

/** A 10.x.y.0/24 no interface of the machine is on. */
async function freeSubnet(): Promise<string> {
  const { stdout } = await ip("-4", "-o", "addr", "show");
  const { stdout: routes } = await ip("-4", "route", "show");
  for (let tries = 0; tries < 100; tries++) {
    const prefix = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}`;
    if (!stdout.includes(` ${prefix}.`) && !routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error("no free 10.x.y.0/24 subnet found for the test network");
}
