import { accessSync, constants } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GimoError } from "../../core/errors.ts";
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from "../../core/sandbox-limits.ts";
import { type Cgroups, detectCgroups, JOIN, type Placement } from "./cgroups.ts";
import { type DiskWatch, watchWorkspace } from "./disk-watch.ts";
import { defaultPath, SYSTEM_PATH, sandboxEnv } from "./env.ts";
import { passwdFiles, SANDBOX_USER_NAME, type SandboxUser, sandboxUser } from "./identity.ts";
import { gimoModulesDir, gimoNodeBin, type Mount, planLayout, planMasks } from "./layout.ts";
import { type EgressSession, startEgress } from "./network.ts";
import { runProcess } from "./process.ts";
import { rlimitArgs } from "./rlimits.ts";
import type {
  CommandResult,
  ProcessLaunch,
  RunOptions,
  Sandbox,
  SandboxDeps,
  SandboxSpec,
} from "./sandbox-port.ts";
import { checkSpec } from "./spec.ts";

/**
 * The bubblewrap sandbox.
 *
 *   first run ─▶ self-check (a real run of /bin/true, once per sandbox) ─┬─ ok ─▶ every run goes through bwrap
 *                                                                       └─ failed ─▶ every run is refused
 *
 * Each run, from the outside in:
 *
 *   bwrap            the filesystem of layout.ts; new PID, IPC, UTS, network and cgroup namespaces;
 *                    `--die-with-parent`, `--new-session` (no TIOCSTI into GIMO's terminal),
 *                    `--clearenv` then exactly the environment of env.ts
 *   ├ GIMO is root:  bwrap runs privileged (so it can mount anything GIMO can read) and keeps only
 *   │                CAP_SETUID/CAP_SETGID for the next step; `setpriv` becomes the dedicated
 *   │                sandbox uid/gid with no groups, no capabilities and `no_new_privs`; `unshare
 *   │                --user --map-current-user` puts it in a user namespace mapping only that id
 *   └ otherwise:     bwrap runs unprivileged and makes the user namespace itself (GIMO's uid, no
 *                    capabilities, `no_new_privs`)
 *   [egress bridge]  with network on: network.ts's bridge to GIMO's egress proxy
 *   prlimit          the run's resource limits (rlimits.ts), counted in that user namespace
 *   the command
 *
 * The bwrap process itself starts with nothing but PATH in its environment.
 */
export interface BwrapCommand {
  mounts: Mount[];
  env: Record<string, string>;
  /** Working directory inside the sandbox. */
  cwd: string;
  /** The dedicated user when GIMO is root; undefined runs unprivileged as GIMO's own uid. */
  user: SandboxUser | undefined;
  limits: SandboxLimits;
  /** Programs wrapped around the command after the limits (the egress bridge). */
  wrap: string[];
  tools: HelperTools;
}

export interface HelperTools {
  setpriv: string;
  unshare: string;
  prlimit: string;
}

export function bwrapArgs(cmd: BwrapCommand, argv: string[]): string[] {
  const args: string[] = [];
  for (const m of cmd.mounts) args.push(...mountArgs(m));
  if (cmd.user) {
    // biome-ignore format: argv
    args.push(
      "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try",
      "--die-with-parent", "--new-session",
      "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
    );
  } else {
    args.push("--unshare-all", "--die-with-parent", "--new-session");
  }
  args.push("--clearenv");
  for (const [key, value] of Object.entries(cmd.env)) args.push("--setenv", key, value);
  if (cmd.user) {
    // bwrap, without CAP_DAC_OVERRIDE, may not enter a workspace only the sandbox user may: the
    // working directory is entered after the switch, by `unshare --wd`.
    // biome-ignore format: argv
    args.push(
      "--", cmd.tools.setpriv, `--reuid=${cmd.user.uid}`, `--regid=${cmd.user.gid}`, "--clear-groups",
      "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
      cmd.tools.unshare, "--user", "--map-current-user", `--wd=${cmd.cwd}`, "--",
    );
  } else {
    args.push("--chdir", cmd.cwd, "--");
  }
  args.push(cmd.tools.prlimit, ...rlimitArgs(cmd.limits), "--", ...cmd.wrap, ...argv);
  return args;
}

function mountArgs(m: Mount): string[] {
  switch (m.kind) {
    case "tmpfs":
      return [
        ...(m.mode === undefined ? [] : ["--perms", octal(m.mode)]),
        ...(m.sizeBytes === undefined ? [] : ["--size", String(m.sizeBytes)]),
        "--tmpfs",
        m.dest,
      ];
    case "dir":
      return ["--perms", octal(m.mode), "--dir", m.dest];
    case "dev":
      return ["--dev", m.dest];
    case "proc":
      return ["--proc", m.dest];
    case "ro":
      return ["--ro-bind", m.src, m.dest];
    case "rw":
      return ["--bind", m.src, m.dest];
    case "mask-file":
      return ["--ro-bind", "/dev/null", m.dest];
  }
}

const octal = (mode: number) => mode.toString(8).padStart(4, "0");
const MASKS_TTL_MS = 30_000;

export function createBwrapSandbox(deps: SandboxDeps): Sandbox {
  const bwrap = deps.bwrapPath ?? findOnPath("bwrap") ?? "/usr/bin/bwrap";
  const user = sandboxUser(deps.sandboxId);
  let ready: Promise<Prepared> | undefined;
  // The masks depend on the host only: looked up again at most every MASKS_TTL_MS.
  let cachedMasks: { at: number; masks: Promise<Mount[]> } | undefined;
  const masks = () => {
    if (!cachedMasks || Date.now() - cachedMasks.at > MASKS_TTL_MS)
      cachedMasks = { at: Date.now(), masks: planMasks({ home: deps.home, hide: deps.hide ?? [] }) };
    return cachedMasks.masks;
  };

  const build = async (prepared: Prepared, spec: SandboxSpec, argv: string[], egress?: EgressSession) => {
    const { workspace, cwd } = await checkSpec(argv, spec);
    const mounts = await planLayout({
      workspace,
      nodeBin: prepared.nodeBin,
      modulesDir: prepared.modulesDir,
      user,
      masks: await masks(),
      ...(prepared.passwd ? { passwd: prepared.passwd } : {}),
      readable: egress?.readable ?? [],
      extra: egress?.mounts ?? [],
      tmpBytes: (spec.limits ?? DEFAULT_SANDBOX_LIMITS).max_memory_mb * 1024 * 1024,
    });
    const path = defaultPath(join(prepared.nodeBin, "node"));
    return bwrapArgs(
      {
        mounts,
        env: { ...sandboxEnv(spec.env, path, user ? SANDBOX_USER_NAME : undefined), ...egress?.env },
        cwd: cwd === "." ? workspace : join(workspace, cwd),
        user,
        limits: spec.limits ?? DEFAULT_SANDBOX_LIMITS,
        wrap: egress?.wrap ?? [],
        tools: prepared.tools,
      },
      argv,
    );
  };

  const sandbox: Sandbox = {
    kind: "bwrap",
    user,
    async describe(spec) {
      const prepared = await ensure();
      const l = spec.limits ?? DEFAULT_SANDBOX_LIMITS;
      const who = user ? `uid ${user.uid}` : `GIMO's uid ${process.getuid?.()}`;
      const net = !spec.network
        ? "no network"
        : `network through the egress proxy (${spec.egress?.length ? spec.egress.join(", ") : "any public host"})`;
      return (
        `bubblewrap: ${who} in a user namespace, no capabilities; ${net}; ` +
        `limits ${l.max_processes} processes, ${l.max_memory_mb} MB memory, ${l.max_file_mb} MB per file, ` +
        `${l.max_open_files} open files, a ${l.max_workspace_mb} MB workspace — rlimits per process${prepared.cgroups ? ` and ${prepared.cgroups.describe}` : " (no cgroups on this host)"}`
      );
    },
    run: (command, spec, opts) => sandbox.runArgv(["/bin/sh", "-c", command], spec, opts),
    async runArgv(argv, spec, opts) {
      return launch(await ensure(), spec, argv, opts);
    },
    async prepareProcess(argv, spec) {
      return confine(await ensure(), spec, argv, () => {});
    },
  };
  const ensure = () => {
    ready ??= prepare(bwrap, user, deps.cgroup, (prepared, probe) => launch(prepared, probe, ["/bin/true"]));
    return ready;
  };

  /** The command line around bwrap: its egress proxy and cgroup, released by the caller when it has ended. */
  const confine = async (
    prepared: Prepared,
    spec: SandboxSpec,
    argv: string[],
    log: (line: string) => void,
  ): Promise<ProcessLaunch> => {
    const egress = spec.network
      ? await startEgress({
          rules: { allow: spec.egress ?? [], always: spec.egressAlways ?? [] },
          noProxy: spec.noProxy ?? [],
          nodeBin: prepared.nodeBin,
          log,
        })
      : undefined;
    let placement: Placement | undefined;
    try {
      placement = await prepared.cgroups?.place(spec.limits ?? DEFAULT_SANDBOX_LIMITS);
      const args = await build(prepared, spec, argv, egress);
      const command = placement
        ? { file: "/bin/sh", args: ["-c", JOIN, "sh", ...placement.procs, "--", bwrap, ...args] }
        : { file: bwrap, args };
      const held = placement;
      const release = async () => {
        await held?.release();
        await egress?.close();
      };
      return { ...command, env: { PATH: SYSTEM_PATH }, cwd: "/", release };
    } catch (error) {
      await placement?.release();
      await egress?.close();
      throw error;
    }
  };

  /** One command: its egress proxy and cgroups around bwrap, all gone when it ends. */
  const launch = async (prepared: Prepared, spec: SandboxSpec, argv: string[], opts?: RunOptions) => {
    let note: (text: string) => void = () => {};
    const { release, ...plan } = await confine(prepared, spec, argv, (line) => note(line));
    let watch: DiskWatch | undefined;
    try {
      const limits = spec.limits ?? DEFAULT_SANDBOX_LIMITS;
      const disk = new AbortController();
      let grewTo: number | undefined;
      watch = watchWorkspace(spec.workspace, limits.max_workspace_mb * 1024 * 1024, (bytes) => {
        grewTo = bytes;
        note(
          `\n…[stopped: the workspace holds ${Math.round(bytes / 1024 / 1024)} MB, more than max_workspace_mb ${limits.max_workspace_mb}]…\n`,
        );
        disk.abort();
      });
      const signal = opts?.signal ? AbortSignal.any([opts.signal, disk.signal]) : disk.signal;
      const result = await runProcess({ ...plan, attach: (write) => (note = write) }, spec, {
        ...opts,
        signal,
      });
      return grewTo === undefined ? result : { ...result, limitExceeded: "max_workspace_mb" as const };
    } finally {
      watch?.stop();
      await release();
    }
  };
  return sandbox;
}

interface Prepared {
  tools: HelperTools;
  nodeBin: string;
  modulesDir: string;
  passwd: { passwd: string; group: string } | undefined;
  cgroups: Cgroups | undefined;
}

/**
 * Once per sandbox: finds the helper programs, writes the sandbox user's passwd files, and runs
 * `/bin/true` exactly the way real commands run. Any failure refuses every run, with the reason.
 */
async function prepare(
  bwrap: string,
  user: SandboxUser | undefined,
  delegatedCgroup: string | undefined,
  probe: (prepared: Prepared, spec: SandboxSpec) => Promise<CommandResult>,
): Promise<Prepared> {
  const refuse = (why: string) =>
    new GimoError(
      "unavailable",
      `commands cannot run: the bubblewrap sandbox is unavailable (${why}). ` +
        "Install bubblewrap and util-linux (Debian/Ubuntu: apt-get install bubblewrap util-linux; " +
        "bubblewrap needs unprivileged user namespaces or root) or set GIMO_SANDBOX=off to run " +
        "commands without a sandbox.",
      { sandbox: "bwrap", path: bwrap },
    );
  if (!isExecutable(bwrap)) throw refuse(`${bwrap} was not found`);
  const tools = { setpriv: "", unshare: "", prlimit: "" };
  for (const name of ["setpriv", "unshare", "prlimit"] as const) {
    const found = findOnPath(name);
    if (!found) throw refuse(`${name} (util-linux) was not found`);
    tools[name] = found;
  }
  const cgroups = await detectCgroups(delegatedCgroup).catch((error: Error) => {
    throw refuse(error.message);
  });
  const prepared: Prepared = {
    tools,
    nodeBin: await gimoNodeBin(),
    modulesDir: await gimoModulesDir(),
    passwd: user ? await passwdFiles(user) : undefined,
    cgroups,
  };
  const workspace = await mkdtemp(join(tmpdir(), "gimo-sandbox-check-"));
  if (user) await chown(workspace, user.uid, user.gid);
  const spec: SandboxSpec = { workspace, network: false, timeoutMs: 15_000, outputCapBytes: 4_000 };
  const result = await probe(prepared, spec).finally(() => rm(workspace, { recursive: true, force: true }));
  if (result.exitCode !== 0) {
    throw refuse(`${bwrap} failed its self-check: ${result.output.trim() || `exit ${result.exitCode}`}`);
  }
  return prepared;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of `${process.env.PATH ?? ""}:${SYSTEM_PATH}`.split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
