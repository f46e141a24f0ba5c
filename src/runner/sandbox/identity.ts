import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { chmod, lchown, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { walkTree } from "../workspace/tree-walk.ts";

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

/**
 * Gives `dir` and everything under it to `user`. The tree may hold what an earlier run committed
 * (a reused task branch), so no symlink may be followed: `chown -R -h -P` (coreutils, fast: no
 * link followed, any name, any depth), or where that is missing a walk by bytes through
 * descriptors with `lchown` (tree-walk.ts).
 */
export async function handOver(dir: string, user: SandboxUser): Promise<void> {
  const done = await new Promise<boolean>((resolve) =>
    execFile("chown", ["-R", "-h", "-P", `${user.uid}:${user.gid}`, "--", dir], (error) => resolve(!error)),
  );
  if (done) return;
  await lchown(dir, user.uid, user.gid);
  await walkTree(dir, {
    visit: async ({ at }) => {
      await lchown(at, user.uid, user.gid);
      return true;
    },
  });
}

/**
 * Copies of /etc/passwd and /etc/group naming `user`: written once per process and user (every
 * sandbox of the process shares them — the one piece of process-wide state here, like a file it
 * owns), removed when the process exits.
 */
const written = new Map<number, Promise<{ passwd: string; group: string }>>();

export function passwdFiles(user: SandboxUser): Promise<{ passwd: string; group: string }> {
  let files = written.get(user.uid);
  if (!files) {
    files = writePasswdFiles(user);
    written.set(user.uid, files);
  }
  return files;
}

async function writePasswdFiles(user: SandboxUser): Promise<{ passwd: string; group: string }> {
  const dir = await mkdtemp(join(tmpdir(), "gimo-sandbox-user-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
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
