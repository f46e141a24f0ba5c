import { constants } from "node:fs";
import { access, lstat, readdir, readlink, realpath } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

/**
 * The filesystem a bubblewrap sandbox shows its command, computed from GIMO's own records (the
 * workspace and object store paths of the run, GIMO's home and data dir) and from the host's
 * layout — never from anything inside the workspace, which the command itself may have written.
 *
 *   /                 an empty read-only tmpfs, holding:
 *   /usr, /etc, …     every top-level entry of the host, read-only (top-level symlinks such as
 *                     /bin → usr/bin recreated); /dev and /proc fresh; /tmp, /dev/shm and /run
 *                     private tmpfs, each of a bounded size (/tmp and /dev/shm: `tmpBytes`), so
 *                     a command cannot fill the host's memory through them
 *   /workspace        the run's workspace, read-write — the only place a command can write to
 *                     that outlives it
 *   /gimo/node/bin    the Node.js running GIMO, read-only, first on PATH
 *   masked            credential files of GIMO's home (ssh and cloud keys, agent CLI logins, shell
 *                     histories), /etc/shadow and ssh host keys, and every `hide` path (GIMO's data
 *                     dir): an empty tmpfs over a directory, /dev/null over a file
 *   /etc/passwd, /etc/group   copies naming the sandbox user, when it is GIMO's dedicated one
 *
 * The workspace never appears at its host path, so nothing the command sees depends on where GIMO
 * keeps its data, and a directory the sandbox user may not traverse on the host (GIMO's 0700 data
 * dir, root's home) does not stand in the way.
 */
export const SANDBOX_WORKSPACE = "/workspace";
export const SANDBOX_NODE_BIN = "/gimo/node/bin";
/** The size of the tmpfs that only hold mount points. */
const SMALL = 1024 * 1024;

export type Mount =
  | { kind: "tmpfs"; dest: string; mode?: number; sizeBytes?: number }
  | { kind: "dir"; dest: string; mode: number }
  | { kind: "dev" | "proc"; dest: string }
  | { kind: "ro" | "rw"; src: string; dest: string }
  | { kind: "symlink"; target: string; dest: string }
  | { kind: "mask-file"; dest: string }
  | { kind: "remount-ro"; dest: string };

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
/** Top-level entries the sandbox makes its own instead of showing the host's. */
const OWN_TOP_LEVEL = new Set(["dev", "proc", "tmp", "run", "workspace", "gimo"]);

export interface LayoutInput {
  /** The workspace on the host. */
  workspace: string;
  /** The directory of the Node.js binary to offer (default: GIMO's own). */
  nodeBin: string;
  home?: string;
  hide?: string[];
  /** Replacement /etc/passwd and /etc/group (the dedicated sandbox user's). */
  passwd?: { passwd: string; group: string };
  /** More mounts of the run's own (the egress proxy's socket and bridge). */
  extra?: Mount[];
  /** The size of the sandbox's /tmp and /dev/shm. */
  tmpBytes: number;
}

export async function planLayout(input: LayoutInput): Promise<Mount[]> {
  const mounts: Mount[] = [{ kind: "tmpfs", dest: "/", sizeBytes: SMALL }];
  for (const name of (await readdir("/")).sort()) {
    if (OWN_TOP_LEVEL.has(name)) continue;
    const path = `/${name}`;
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isSymbolicLink()) mounts.push({ kind: "symlink", target: await readlink(path), dest: path });
    else mounts.push({ kind: "ro", src: path, dest: path });
  }
  mounts.push(
    { kind: "dev", dest: "/dev" },
    { kind: "proc", dest: "/proc" },
    { kind: "tmpfs", dest: "/dev/shm", mode: 0o1777, sizeBytes: input.tmpBytes },
    { kind: "tmpfs", dest: "/tmp", mode: 0o1777, sizeBytes: input.tmpBytes },
    { kind: "tmpfs", dest: "/run", mode: 0o755, sizeBytes: SMALL },
    { kind: "dir", dest: "/run/gimo", mode: 0o755 },
    { kind: "dir", dest: "/gimo", mode: 0o755 },
    { kind: "dir", dest: "/gimo/node", mode: 0o755 },
  );

  const home = input.home ?? homedir();
  const secrets = [
    ...HOME_SECRETS.map((p) => join(home, p)),
    ...SYSTEM_SECRETS,
    ...(await sshHostKeys()),
    ...(input.hide ?? []),
  ];
  for (const path of secrets) mounts.push(...(await mask(resolve(path))));
  if (input.passwd) {
    mounts.push({ kind: "ro", src: input.passwd.passwd, dest: "/etc/passwd" });
    mounts.push({ kind: "ro", src: input.passwd.group, dest: "/etc/group" });
  }

  mounts.push({ kind: "ro", src: input.nodeBin, dest: SANDBOX_NODE_BIN });
  mounts.push({ kind: "rw", src: input.workspace, dest: SANDBOX_WORKSPACE });
  mounts.push(...(input.extra ?? []), { kind: "remount-ro", dest: "/" });
  return mounts;
}

/** The directory of the Node.js binary running GIMO (resolved: `node` may be a symlink). */
export async function gimoNodeBin(): Promise<string> {
  return dirname(await realpath(process.execPath));
}

/**
 * Hides `path`: an empty tmpfs over a directory, /dev/null over a file; a symlink hides its target.
 * A path this process cannot even reach is left alone — the sandbox user cannot reach it either.
 */
async function mask(path: string): Promise<Mount[]> {
  if (OWN_TOP_LEVEL.has(path.split("/")[1] ?? "")) return []; // the sandbox's own, fresh anyway
  const info = await lstat(path).catch(() => undefined);
  if (!info) return [];
  if (info.isSymbolicLink()) {
    const target = await realpath(path).catch(() => undefined);
    return target && target !== path ? mask(target) : [];
  }
  const reachable = await access(dirname(path), constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!reachable) return [];
  return [
    info.isDirectory() ? { kind: "tmpfs", dest: path, sizeBytes: SMALL } : { kind: "mask-file", dest: path },
  ];
}

async function sshHostKeys(): Promise<string[]> {
  const names = await readdir("/etc/ssh").catch(() => [] as string[]);
  return names.filter((n) => /^ssh_host_.*_key$/.test(n)).map((n) => join("/etc/ssh", n));
}
