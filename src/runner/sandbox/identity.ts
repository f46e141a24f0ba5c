import { chmod, lchown, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Who a sandboxed command runs as. Never root:
 *
 *  - GIMO running as an ordinary user: bubblewrap makes a user namespace and the command keeps
 *    that user's uid (it has no capabilities and cannot gain any: `no_new_privs`).
 *  - GIMO running as root (a typical runner host): the command runs as a dedicated unprivileged uid
 *    and gid (`GIMO_SANDBOX_UID`, default 64999) inside a user namespace that maps only that id, so
 *    nothing it does — a kernel bug aside — is done as root on the host. Root-only files (GIMO's
 *    data dir is 0700) are out of its reach even where a path is visible; the workspace is handed
 *    over to that uid (`handOver`) before the first command, and every file GIMO writes into it
 *    afterwards is chowned too. Since the uid has no entry in the host's /etc/passwd, the sandbox
 *    shows copies of /etc/passwd and /etc/group with one more line (`passwdFiles`), so `whoami`,
 *    ssh, pip or git find a user name and a home (/tmp, the sandbox's private /tmp).
 */
export interface SandboxUser {
  uid: number;
  gid: number;
}

export const DEFAULT_SANDBOX_ID = 64_999;
export const SANDBOX_USER_NAME = "gimo";

/** The dedicated user when GIMO runs as root; undefined otherwise (commands keep GIMO's uid). */
export function sandboxUser(id: number = DEFAULT_SANDBOX_ID): SandboxUser | undefined {
  return process.getuid?.() === 0 ? { uid: id, gid: id } : undefined;
}

/** Gives `dir` and everything under it to `user`, never following a symlink. */
export async function handOver(dir: string, user: SandboxUser): Promise<void> {
  await lchown(dir, user.uid, user.gid);
  const entries = await readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? handOver(path, user) : lchown(path, user.uid, user.gid);
    }),
  );
}

/** Copies of /etc/passwd and /etc/group naming `user`, written once per process. */
export async function passwdFiles(user: SandboxUser): Promise<{ passwd: string; group: string }> {
  const dir = await mkdtemp(join(tmpdir(), "gimo-sandbox-user-"));
  await chmod(dir, 0o755);
  const read = (path: string) => readFile(path, "utf8").catch(() => "");
  const keep = (text: string, id: number) =>
    text
      .split("\n")
      .filter((line) => line !== "" && line.split(":")[2] !== String(id))
      .join("\n");
  const passwd = join(dir, "passwd");
  const group = join(dir, "group");
  await writeFile(
    passwd,
    `${keep(await read("/etc/passwd"), user.uid)}\n${SANDBOX_USER_NAME}:x:${user.uid}:${user.gid}:GIMO sandbox:/tmp:/bin/sh\n`,
    { mode: 0o644 },
  );
  await writeFile(
    group,
    `${keep(await read("/etc/group"), user.gid)}\n${SANDBOX_USER_NAME}:x:${user.gid}:\n`,
    {
      mode: 0o644,
    },
  );
  return { passwd, group };
}
