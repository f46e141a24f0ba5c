import { constants } from "node:fs";
import { access, lstat, readdir, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxUser } from "./identity.ts";

/**
 * The filesystem a bubblewrap sandbox shows its command, computed from GIMO's own records (the
 * run's workspace, GIMO's home and data dir, its Node) and from the host — never from anything
 * inside the workspace, which the command itself may have written.
 *
 *   /                 the host's, read-only; /dev and /proc fresh; /tmp, /dev/shm and /run private
 *                     tmpfs of bounded sizes (/tmp and /dev/shm: `tmpBytes`), so a command cannot
 *                     fill the host's memory through them
 *   masked            credential files of GIMO's home (ssh and cloud keys, `~/.gitconfig`, agent
 *                     CLI logins, shell histories), /etc/shadow and ssh host keys, and every `hide`
 *                     path (GIMO's data dir): an empty tmpfs over a directory, /dev/null over a file
 *   the workspace     read-write at its own path: the only place a command can write to that
 *                     outlives it
 *   GIMO's Node       read-only at its own path, first on PATH (and the egress bridge, `extra`)
 *   GIMO's node_modules   read-only at its own path, as it is anywhere else on the host, even
 *                     when the checkout lies under /tmp or in a directory the sandbox user may not
 *                     enter: the agent CLIs and MCP servers a run starts come from it. Only
 *                     node_modules, not the checkout (its data dir may be there); masks inside it
 *                     are laid again over the bind
 *   /etc/passwd, /etc/group   copies naming the sandbox user, when it is GIMO's dedicated one
 *
 * Reaching a path: the workspace often lives where the sandbox user may not go — under GIMO's
 * 0700 data dir (masked anyway), under root's home, under a 0700 temp dir. Then the first ancestor
 * in the way gets an empty tmpfs (it hides nothing the user could have read), the path's
 * directories are made again inside it (0755), and the path is bound there (`reach`).
 *
 * Mounts are in the order bubblewrap applies them: a deeper one always lands on the one it is in.
 */
export type Mount =
  | { kind: "tmpfs"; dest: string; mode?: number; sizeBytes?: number }
  | { kind: "dir"; dest: string; mode: number }
  | { kind: "dev" | "proc"; dest: string }
  | { kind: "ro" | "rw"; src: string; dest: string }
  | { kind: "mask-file"; dest: string };

/** The size of a tmpfs that only hides or holds mount points. */
const SMALL = 1024 * 1024;

// biome-ignore format: a list
export const HOME_SECRETS = [
  ".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config/gcloud", ".config/gh", ".config/hub",
  ".config/gimo", ".netrc", ".git-credentials", ".gitconfig", ".config/git", ".npmrc", ".yarnrc.yml",
  ".pypirc", ".pgpass", ".my.cnf", ".cargo/credentials", ".cargo/credentials.toml", ".m2/settings.xml",
  ".gradle/gradle.properties", ".vault-token", ".terraform.d", ".codex", ".claude", ".claude.json",
  ".gemini", ".config/opencode", ".local/share/opencode", ".bash_history", ".zsh_history",
  ".python_history", ".psql_history", ".mysql_history", ".node_repl_history",
];

const SYSTEM_SECRETS = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"];
/** Fresh in every sandbox: nothing of the host's is under them. */
const OWN = ["/tmp", "/run", "/dev", "/proc"];

export interface LayoutInput {
  /** The workspace on the host. */
  workspace: string;
  /** The directory of the Node.js binary to offer. */
  nodeBin: string;
  /** Who runs the command: the dedicated sandbox user, or GIMO's own uid when undefined. */
  user: SandboxUser | undefined;
  /** The masks (`planMasks`): computed apart, as they change only with the host. */
  masks: Mount[];
  /** Replacement /etc/passwd and /etc/group (the dedicated sandbox user's). */
  passwd?: { passwd: string; group: string };
  /** GIMO's own node_modules (where the agent CLIs and MCP servers it runs live). */
  modulesDir?: string;
  /** Host files to show read-only at their own paths (the egress bridge). */
  readable?: string[];
  /** More mounts of the command's own (the egress proxy's socket). */
  extra?: Mount[];
  /** The size of the sandbox's /tmp and /dev/shm. */
  tmpBytes: number;
}

export async function planLayout(input: LayoutInput): Promise<Mount[]> {
  const mounts: Mount[] = [
    { kind: "ro", src: "/", dest: "/" },
    { kind: "dev", dest: "/dev" },
    { kind: "proc", dest: "/proc" },
    { kind: "tmpfs", dest: "/dev/shm", mode: 0o1777, sizeBytes: input.tmpBytes },
    { kind: "tmpfs", dest: "/tmp", mode: 0o1777, sizeBytes: input.tmpBytes },
    { kind: "tmpfs", dest: "/run", mode: 0o755, sizeBytes: SMALL },
    { kind: "dir", dest: "/run/gimo", mode: 0o755 },
  ];
  mounts.push(...input.masks);
  const masked = [...OWN, ...input.masks.filter((m) => m.kind === "tmpfs").map((m) => m.dest)];
  if (input.passwd) {
    mounts.push({ kind: "ro", src: input.passwd.passwd, dest: "/etc/passwd" });
    mounts.push({ kind: "ro", src: input.passwd.group, dest: "/etc/group" });
  }
  const reach = new Reach(input.user, masked);
  const shown = [input.nodeBin, ...(input.modulesDir ? [input.modulesDir] : []), ...(input.readable ?? [])];
  const bound: string[] = [];
  for (const path of shown) {
    const reached = await reach.mounts(path, "ro");
    mounts.push(...reached);
    if (reached.some((m) => m.kind === "ro")) bound.push(path);
  }
  // A bind shows the host's tree again, masks included: lay the masks inside it again on top.
  mounts.push(...input.masks.filter((m) => bound.some((b) => m.dest.startsWith(`${b}/`))));
  mounts.push(...(await reach.mounts(input.workspace, "rw")), ...(input.extra ?? []));
  return mounts;
}

/** The masks over GIMO's home's credential files, system secrets and the `hide` paths. */
export async function planMasks(opts: { home?: string | undefined; hide?: string[] }): Promise<Mount[]> {
  const home = opts.home ?? homedir();
  const secrets = [
    ...HOME_SECRETS.map((p) => join(home, p)),
    ...SYSTEM_SECRETS,
    ...(await sshHostKeys()),
    ...(opts.hide ?? []),
  ];
  const masks: Mount[] = [];
  for (const path of secrets) {
    const mask = await maskOf(resolve(path));
    if (mask) masks.push(mask);
  }
  return masks;
}

/** GIMO's node_modules: in the checkout this module is in (three levels above src/runner/sandbox). */
export async function gimoModulesDir(): Promise<string> {
  return realpath(fileURLToPath(new URL("../../../node_modules", import.meta.url)));
}

/** The directory of the Node.js binary running GIMO (resolved: `node` may be a symlink). */
export async function gimoNodeBin(): Promise<string> {
  return dirname(await realpath(process.execPath));
}

/**
 * How to show a host path at its own path inside the sandbox: bound over itself, after making the
 * way to it where a masked or closed directory stands in it. Each directory it makes is remembered,
 * so two paths under one blocked ancestor share its tmpfs.
 */
class Reach {
  readonly #user: SandboxUser | undefined;
  readonly #empty: string[];
  readonly #made = new Set<string>();

  constructor(user: SandboxUser | undefined, masked: string[]) {
    this.#user = user;
    this.#empty = masked;
  }

  async mounts(path: string, kind: "ro" | "rw"): Promise<Mount[]> {
    const out: Mount[] = [];
    const ancestors = ancestorsOf(path);
    let rebuilding = false;
    for (const dir of ancestors) {
      if (this.#made.has(dir)) {
        rebuilding = true;
        continue;
      }
      if (rebuilding) {
        out.push({ kind: "dir", dest: dir, mode: 0o755 });
        this.#made.add(dir);
      } else if (this.#empty.includes(dir)) {
        rebuilding = true; // an empty tmpfs already: make the rest inside it
        this.#made.add(dir);
      } else if (!(await this.#canTraverse(dir))) {
        out.push({ kind: "tmpfs", dest: dir, mode: 0o755, sizeBytes: SMALL });
        this.#made.add(dir);
        rebuilding = true;
      }
    }
    // Visible already, read-only, through the host's `/`: nothing to bind.
    if (kind === "ro" && !rebuilding) return out;
    out.push({ kind, src: path, dest: path });
    return out;
  }

  /** Whether the sandbox user may pass through `dir` on the host (its mode bits; ACLs aside). */
  async #canTraverse(dir: string): Promise<boolean> {
    const user = this.#user;
    if (!user)
      return access(dir, constants.X_OK).then(
        () => true,
        () => false,
      );
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) return false;
    const bits = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
    return (info.mode & bits) !== 0;
  }
}

/** `/a/b/c` → `/a`, `/a/b` (the directories above a path, top first; not `/`). */
function ancestorsOf(path: string): string[] {
  const parts = resolve(path).split(sep).filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
}

/**
 * Hides `path`: an empty tmpfs over a directory, /dev/null over a file; a symlink hides its target.
 * A path this process cannot even reach is left alone — the sandbox user cannot reach it either.
 */
async function maskOf(path: string): Promise<Mount | undefined> {
  if (OWN.some((own) => path === own || path.startsWith(`${own}/`))) return undefined;
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (info.isSymbolicLink()) {
    const target = await realpath(path).catch(() => undefined);
    return target && target !== path ? maskOf(target) : undefined;
  }
  const reachable = await access(dirname(path), constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!reachable) return undefined;
  return info.isDirectory()
    ? { kind: "tmpfs", dest: path, sizeBytes: SMALL }
    : { kind: "mask-file", dest: path };
}

async function sshHostKeys(): Promise<string[]> {
  const names = await readdir("/etc/ssh").catch(() => [] as string[]);
  return names.filter((n) => /^ssh_host_.*_key$/.test(n)).map((n) => join("/etc/ssh", n));
}
