import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { worktreeGitDirs } from "./git-paths.ts";
import type { SandboxSpec } from "./sandbox.ts";
import { isInside } from "./spec.ts";

/**
 * What a bubblewrap sandbox mounts, decided per run from the spec and the real filesystem (bwrap.ts
 * turns it into arguments). On top of `/` read-only:
 *
 *  - private: a fresh tmpfs on `/tmp` and on `/run` (runtime sockets — PostgreSQL, MySQL, D-Bus,
 *    Docker — are reachable through a read-only mount, network namespace or not); with network on,
 *    `/run/systemd/resolve` comes back read-only so DNS keeps working;
 *  - masked: credential files of GIMO's home (ssh keys, cloud and registry tokens, agent CLI logins,
 *    shell histories), `/etc/shadow`, ssh host keys, and any `hide` path (GIMO's data dir). A hidden
 *    directory that contains the workspace or a git dir is masked entry by entry around it;
 *  - readable again: the worktree's git dirs (found from its `.git` file) and `extraReadable`;
 *  - writable: the workspace and `extraWritable`.
 *
 * Mounts are applied shallowest path first, so a deeper mount always lands on top of the one that
 * contains it, whichever list it came from.
 */
export type Mount =
  | { kind: "tmpfs"; path: string }
  | { kind: "null"; path: string }
  | { kind: "ro"; path: string }
  | { kind: "rw"; path: string }
  | { kind: "ro-try"; path: string };

// biome-ignore format: a list
export const HOME_SECRETS = [
  ".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config/gcloud", ".config/gh", ".config/hub",
  ".config/gimo", ".netrc", ".git-credentials", ".npmrc", ".yarnrc.yml", ".pypirc", ".pgpass", ".my.cnf",
  ".cargo/credentials", ".cargo/credentials.toml", ".m2/settings.xml", ".gradle/gradle.properties",
  ".vault-token", ".terraform.d", ".codex", ".claude", ".claude.json", ".gemini", ".config/opencode",
  ".local/share/opencode", ".bash_history", ".zsh_history", ".python_history", ".psql_history",
  ".mysql_history", ".node_repl_history",
];

const SYSTEM_SECRETS = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"];

export async function planMounts(
  spec: SandboxSpec,
  workspace: string,
  opts: { home?: string; hide?: string[] },
): Promise<Mount[]> {
  const writable = [workspace, ...(await existing(spec.extraWritable ?? [], "extraWritable"))];
  const git = await worktreeGitDirs(workspace);
  const readable = [
    ...(git ? [git.commonDir, git.gitDir] : []),
    // GIMO's own Node stays runnable even when it is installed under /tmp (a clone there, CI).
    dirname(await realpath(process.execPath)),
    ...(await existing(spec.extraReadable ?? [], "extraReadable")),
  ];
  const keep = [...writable, ...readable];

  const mounts: Mount[] = [{ kind: "tmpfs", path: "/tmp" }];
  if (await exists("/run")) mounts.push({ kind: "tmpfs", path: "/run" });
  if (spec.network) mounts.push({ kind: "ro-try", path: "/run/systemd/resolve" });

  const home = opts.home ?? homedir();
  const secrets = [...HOME_SECRETS.map((p) => join(home, p)), ...SYSTEM_SECRETS, ...(await sshHostKeys())];
  const masks = await Promise.all(
    [...secrets, ...(opts.hide ?? [])].map((path) => mask(resolve(path), keep)),
  );
  mounts.push(...masks.flat());

  for (const path of readable)
    if (!writable.some((w) => isInside(w, path))) mounts.push({ kind: "ro", path });
  for (const path of writable) mounts.push({ kind: "rw", path });
  return order(mounts);
}

/** Masks `path`, or — when it contains something to keep — each of its entries around it. */
async function mask(path: string, keep: string[]): Promise<Mount[]> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return [];
  if (info.isSymbolicLink()) {
    const target = await realpath(path).catch(() => undefined);
    return target && target !== path ? mask(target, keep) : [];
  }
  if (keep.includes(path)) return []; // what the run needs wins over a mask
  if (!info.isDirectory()) return [{ kind: "null", path }];
  if (!keep.some((k) => isInside(path, k))) return [{ kind: "tmpfs", path }];
  const out: Mount[] = [];
  for (const entry of await readdir(path)) out.push(...(await mask(join(path, entry), keep)));
  return out;
}

async function existing(paths: string[], what: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if (!isAbsolute(p)) throw new GimoError("bad_request", `${what}: ${p} is not an absolute path`);
    const path = resolve(p);
    if (path === sep) throw new GimoError("bad_request", `${what}: the whole filesystem cannot be exposed`);
    if (!(await exists(path))) throw new GimoError("bad_request", `${what}: ${path} does not exist`);
    out.push(path);
  }
  return out;
}

async function sshHostKeys(): Promise<string[]> {
  const names = await readdir("/etc/ssh").catch(() => [] as string[]);
  return names.filter((n) => /^ssh_host_.*_key$/.test(n)).map((n) => join("/etc/ssh", n));
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

function depth(path: string): number {
  return path.split(sep).filter(Boolean).length;
}

function order(mounts: Mount[]): Mount[] {
  const seen = new Set<string>();
  const unique = mounts.filter((m) => {
    const key = `${m.kind}:${m.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.path) - depth(b.m.path) || a.i - b.i)
    .map(({ m }) => m);
}
