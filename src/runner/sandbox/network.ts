import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EgressRules } from "../../core/egress-policy.ts";
import { startEgressProxy } from "./egress-proxy.ts";
import type { Mount } from "./layout.ts";

/**
 * Network for a sandbox with `network: true`. The command still gets its own network namespace
 * with nothing but a loopback interface — never the host's, so the host's loopback services
 * (GIMO's own API, a local database) and its private network are not there to reach. Its way out
 * is GIMO's egress proxy (egress-proxy.ts), started for the command on a unix socket in a private
 * directory and bind-mounted into the sandbox, and a bridge (egress-bridge.mjs) that listens on
 * the sandbox's 127.0.0.1:3128 and is the command's parent. `HTTP_PROXY`/`HTTPS_PROXY` (both
 * cases), `NODE_USE_ENV_PROXY=1` and `NO_PROXY` for the sandbox's own loopback point clients at it.
 * A loopback `host:port` the rules' `always` list names (a local model server an agent CLI talks
 * to, `http://127.0.0.1:11434/v1`) is forwarded: the bridge listens on the sandbox's own
 * 127.0.0.1:<port> and tunnels each connection through the proxy to that address, so the CLI uses
 * the URL it was given and every other loopback port stays the sandbox's own:
 * npm, pip, cargo, go, git over https, curl and Node's fetch all go through; a client that ignores
 * proxies (raw sockets, ssh) has no route out.
 *
 *   command ─▶ 127.0.0.1:3128 (bridge, in the sandbox) ─▶ unix socket ─▶ GIMO's proxy ─▶ policy
 *           (core/egress-policy.ts: the allowlist, public addresses only) ─▶ the internet
 *
 * Every connection allowed or refused is a line of the command's output.
 */
export const BRIDGE_PORT = 3128;
const SOCKET_INSIDE = "/run/gimo/egress.sock";
const BRIDGE = fileURLToPath(new URL("./egress-bridge.mjs", import.meta.url));

export interface EgressSession {
  mounts: Mount[];
  /** Host files the sandbox must show at their own paths (the bridge). */
  readable: string[];
  env: Record<string, string>;
  /** The bridge, to put in front of the command. */
  wrap: string[];
  close(): Promise<void>;
}

export async function startEgress(opts: {
  rules: EgressRules;
  /** More `NO_PROXY` names (valid host names only; others are dropped). */
  noProxy?: readonly string[];
  /** The directory of the Node.js that runs the bridge. */
  nodeBin: string;
  log?: ((line: string) => void) | undefined;
}): Promise<EgressSession> {
  const dir = await mkdtemp(join(tmpdir(), "gimo-egress-"));
  const socket = join(dir, "proxy.sock");
  const log = opts.log;
  const proxy = await startEgressProxy(socket, {
    rules: opts.rules,
    ...(log ? { log: (line: string) => log(`${line}\n`) } : {}),
  });
  // The directory stays 0700: only the bind mount leads to the socket, for the sandbox user only.
  await chmod(socket, 0o666);
  const url = `http://127.0.0.1:${BRIDGE_PORT}`;
  const extra = (opts.noProxy ?? []).filter((name) => /^[A-Za-z0-9.-]{1,253}$/.test(name));
  const noProxy = ["localhost", "127.0.0.1", "::1", ...extra].join(",");
  return {
    mounts: [{ kind: "rw", src: socket, dest: SOCKET_INSIDE }],
    readable: [BRIDGE],
    env: {
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      NO_PROXY: noProxy,
      no_proxy: noProxy,
      NODE_USE_ENV_PROXY: "1",
    },
    wrap: [
      join(opts.nodeBin, "node"),
      BRIDGE,
      SOCKET_INSIDE,
      String(BRIDGE_PORT),
      ...loopbackForwards(opts.rules.always ?? []).map((target) => `--forward=${target}`),
    ],
    close: async () => {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The `always` entries that name a port on the loopback (`127.0.0.1:<port>`, `localhost:<port>`):
 * the bridge forwards these from the sandbox's own loopback. Never the bridge's own port.
 */
export function loopbackForwards(always: readonly string[]): string[] {
  return always.filter((entry) => {
    const m = /^(127\.0\.0\.1|localhost):(\d{1,5})$/i.exec(entry);
    const port = Number(m?.[2]);
    return m !== null && port > 0 && port < 65_536 && port !== BRIDGE_PORT;
  });
}
